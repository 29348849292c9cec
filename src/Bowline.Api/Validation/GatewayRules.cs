using Bowline.Api.Resources;

namespace Bowline.Api.Validation;

/// <summary>Gateway checks, after Istio's validateGateway / validateServer.</summary>
internal static class GatewayRules
{
    internal static readonly string[] Protocols = ["HTTP", "HTTPS", "GRPC", "HTTP2", "MONGO", "TCP", "TLS"];

    public static void Check(GatewaySpec spec, Reporter r)
    {
        Checks.NonEmpty(r, "spec.servers", spec.Servers, "server");
        var portNames = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < spec.Servers.Count; i++)
        {
            var server = spec.Servers[i];
            var path = $"spec.servers[{i}]";
            Port(server.Port, $"{path}.port", r);
            if (server.Port.Name.Length > 0 && !portNames.Add(server.Port.Name))
            {
                r.Report($"{path}.port.name", $"port name \"{server.Port.Name}\" is used by another server; port names must be unique");
            }
            Checks.NonEmpty(r, $"{path}.hosts", server.Hosts, "host");
            for (var h = 0; h < server.Hosts.Count; h++)
            {
                Checks.Required(r, $"{path}.hosts[{h}]", server.Hosts[h]);
                HostRules.Check(r, $"{path}.hosts[{h}]", server.Hosts[h], allowNamespace: true);
            }
            var protocol = server.Port.Protocol.ToUpperInvariant();
            if (protocol is "HTTPS" or "TLS" && server.Tls is null)
            {
                r.Report($"{path}.tls", $"a {protocol} server requires tls settings");
            }
            if (server.Tls is { } tls)
            {
                Tls(tls, $"{path}.tls", r);
            }
        }
    }

    /// <summary>A Gateway or ServiceEntry port: all three of number, protocol and name are required.</summary>
    public static void Port(GatewayPort port, string path, Reporter r)
    {
        if (port.Number == 0)
        {
            r.Report($"{path}.number", "required field is missing");
        }
        else
        {
            Checks.Port(r, $"{path}.number", port.Number);
        }
        Checks.Port(r, $"{path}.targetPort", port.TargetPort);
        if (port.Protocol.Length == 0)
        {
            r.Report($"{path}.protocol", "required field is missing");
        }
        else if (!Protocols.Contains(port.Protocol.ToUpperInvariant()))
        {
            r.Report($"{path}.protocol", $"expected one of {string.Join(", ", Protocols)}, got \"{port.Protocol}\"");
        }
        Checks.Required(r, $"{path}.name", port.Name);
    }

    private static void Tls(ServerTLSSettings tls, string path, Reporter r)
    {
        var hasFiles = tls.ServerCertificate is not null || tls.PrivateKey is not null;
        var hasCredential = tls.CredentialName is not null || tls.CredentialNames.Count > 0;
        if (tls.Mode is ServerTlsMode.Simple or ServerTlsMode.Mutual or ServerTlsMode.OptionalMutual && !hasCredential)
        {
            if (tls.ServerCertificate is null)
            {
                r.Report($"{path}.serverCertificate", $"{ModeName(tls.Mode.Value)} TLS requires serverCertificate (or credentialName)");
            }
            if (tls.PrivateKey is null)
            {
                r.Report($"{path}.privateKey", $"{ModeName(tls.Mode.Value)} TLS requires privateKey (or credentialName)");
            }
            if (tls.Mode is ServerTlsMode.Mutual && tls.CaCertificates is null)
            {
                r.Report($"{path}.caCertificates", "MUTUAL TLS requires caCertificates (or credentialName)");
            }
        }
        if (hasFiles && hasCredential)
        {
            r.Report(path, "only one of credentialName or serverCertificate/privateKey may be set");
        }
        if (tls.MinProtocolVersion is { } min && tls.MaxProtocolVersion is { } max && min > max && max != TlsProtocolVersion.TlsAuto)
        {
            r.Report($"{path}.minProtocolVersion", "minProtocolVersion is higher than maxProtocolVersion");
        }
    }

    private static string ModeName(ServerTlsMode mode) => mode == ServerTlsMode.OptionalMutual ? "OPTIONAL_MUTUAL" : mode.ToString().ToUpperInvariant();
}
