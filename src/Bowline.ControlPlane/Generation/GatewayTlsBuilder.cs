using System.Globalization;
using Bowline.Api.Registry;
using Bowline.Api.Resources;
using Bowline.Api.Tls;
using Bowline.Api.Xds;

namespace Bowline.ControlPlane.Generation;

/// <summary>
/// A Gateway server's TLS termination as a <see cref="TlsContext"/>: SNI names from its hosts, certificate material
/// from its credentialName (a Secret in the gateway pod's namespace, as Istio reads it) or its file paths (read by the
/// proxy, as Envoy reads them).
/// </summary>
internal static class GatewayTlsBuilder
{
    /// <summary>HTTPS servers that terminate TLS. PASSTHROUGH, AUTO_PASSTHROUGH and ISTIO_MUTUAL are not terminated here.</summary>
    public static bool Terminates(Server server) =>
        server.Port.Protocol.Equals("HTTPS", StringComparison.OrdinalIgnoreCase)
        && server.Tls?.Mode is ServerTlsMode.Simple or ServerTlsMode.Mutual or ServerTlsMode.OptionalMutual;

    /// <summary>The context, or null (with a note) when its credential cannot be found.</summary>
    public static TlsContext? Build(MeshModel mesh, LocalPod pod, Gateway gw, int index, List<string> notes)
    {
        var server = gw.Spec.Servers[index];
        var tls = server.Tls!;
        var name = string.Create(CultureInfo.InvariantCulture, $"{gw.EffectiveNamespace}/{gw.Metadata.Name} servers[{index}]");
        var context = new TlsContext
        {
            Name = name,
            ServerNames = [.. server.Hosts.Select(StripNamespace).Distinct(StringComparer.OrdinalIgnoreCase)],
            Mode = tls.Mode switch
            {
                ServerTlsMode.Mutual => TlsTerminationMode.Mutual,
                ServerTlsMode.OptionalMutual => TlsTerminationMode.OptionalMutual,
                _ => TlsTerminationMode.Simple,
            },
            MinProtocolVersion = Version(tls.MinProtocolVersion),
            MaxProtocolVersion = Version(tls.MaxProtocolVersion),
            SubjectAltNames = [.. tls.SubjectAltNames],
            VerifyCertificateHash = [.. tls.VerifyCertificateHash],
            VerifyCertificateSpki = [.. tls.VerifyCertificateSpki],
            // Unknown names are dropped, as Istio filters them (validation warned).
            CipherSuites = [.. tls.CipherSuites.Where(CipherSuiteNames.Iana.ContainsKey)],
        };

        if (string.IsNullOrEmpty(tls.CredentialName))
        {
            return context with
            {
                CertificateFile = tls.ServerCertificate,
                PrivateKeyFile = tls.PrivateKey,
                CaCertificatesFile = tls.CaCertificates,
            };
        }

        var secretName = SecretCredential.SecretName(tls.CredentialName);
        if (!mesh.Secrets.TryGetValue($"{pod.Namespace}/{secretName}", out var secret))
        {
            notes.Add($"{name}: credential \"{secretName}\" not found in namespace {pod.Namespace}; the server is left out");
            return null;
        }

        var material = SecretCredential.From(secret);
        var ca = material.CaCertificates;
        if (ca is null && mesh.Secrets.TryGetValue($"{pod.Namespace}/{secretName}{SecretCredential.CaSecretSuffix}", out var caSecret))
        {
            ca = SecretCredential.From(caSecret).CaCertificates;
        }

        if (material.Certificate is null || material.PrivateKey is null)
        {
            notes.Add($"{name}: credential \"{secretName}\" has no certificate and key; the server is left out");
            return null;
        }

        return context with
        {
            CertificateChain = material.Certificate,
            PrivateKey = material.PrivateKey,
            // A CA only matters when client certificates are checked (Istio ignores it for SIMPLE).
            CaCertificates = context.Mode == TlsTerminationMode.Simple ? null : ca,
            CaCertificatesFile = context.Mode == TlsTerminationMode.Simple ? null : tls.CaCertificates,
        };
    }

    /// <summary>A server host "ns/host" binds VirtualServices by namespace; the SNI name is the host part.</summary>
    public static string StripNamespace(string entry)
    {
        var slash = entry.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? entry : entry[(slash + 1)..];
    }

    private static TlsVersion? Version(TlsProtocolVersion? version) => version switch
    {
        TlsProtocolVersion.Tlsv10 => TlsVersion.Tls10,
        TlsProtocolVersion.Tlsv11 => TlsVersion.Tls11,
        TlsProtocolVersion.Tlsv12 => TlsVersion.Tls12,
        TlsProtocolVersion.Tlsv13 => TlsVersion.Tls13,
        _ => null,
    };
}
