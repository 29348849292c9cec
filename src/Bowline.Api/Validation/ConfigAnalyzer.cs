using Bowline.Api.Resources;
using Bowline.Api.Tls;
using Bowline.Api.Yaml;

namespace Bowline.Api.Validation;

/// <summary>
/// istioctl analyze's reference checks: destinations, subsets and gateways a VirtualService names but the config does
/// not define. Warnings, not errors: the missing piece may simply be applied next.
/// </summary>
internal sealed class ConfigAnalyzer
{
    private readonly HashSet<string> _serviceHosts = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _entryHosts = [];
    private readonly Dictionary<string, HashSet<string>> _subsetsByHost = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _gateways = new(StringComparer.Ordinal);
    private readonly HashSet<string> _providers = new(StringComparer.Ordinal) { TelemetryRules.EnvoyProvider };
    private readonly Dictionary<string, KubeSecret> _secrets = new(StringComparer.Ordinal);

    private ConfigAnalyzer(IReadOnlyList<ParsedResource> world)
    {
        foreach (var parsed in world)
        {
            var resource = parsed.Resource;
            switch (resource)
            {
                case KubeService service:
                    _serviceHosts.Add($"{service.Metadata.Name}.{service.EffectiveNamespace}.svc.cluster.local");
                    break;
                case ServiceEntry entry:
                    _entryHosts.AddRange(entry.Spec.Hosts);
                    break;
                case ConfigMap { Mesh: { } mesh }:
                    _providers.UnionWith(mesh.ExtensionProviders.Select(p => p.Name));
                    break;
                case KubeSecret secret:
                    _secrets[$"{secret.EffectiveNamespace}/{secret.Metadata.Name}"] = secret;
                    break;
                case Resources.Gateway:
                    _gateways.Add($"{resource.EffectiveNamespace}/{resource.Metadata.Name}");
                    break;
                case DestinationRule rule:
                    var host = Fqdn(rule.Spec.Host, rule.EffectiveNamespace);
                    if (!_subsetsByHost.TryGetValue(host, out var subsets))
                    {
                        _subsetsByHost[host] = subsets = new HashSet<string>(StringComparer.Ordinal);
                    }
                    subsets.UnionWith(rule.Spec.Subsets.Select(s => s.Name));
                    break;
            }
        }
    }

    public static IReadOnlyList<Diagnostic> Analyze(IReadOnlyList<ParsedResource> world)
    {
        var analyzer = new ConfigAnalyzer(world);
        var warnings = new List<Diagnostic>();
        var scopes = new Dictionary<string, ParsedResource>(StringComparer.Ordinal);
        foreach (var parsed in world)
        {
            if (parsed.Resource is VirtualService vs)
            {
                analyzer.Check(vs, new Reporter(parsed, warnings, DiagnosticSeverity.Warning));
            }
            else if (parsed.Resource is Resources.Telemetry telemetry)
            {
                var reporter = new Reporter(parsed, warnings, DiagnosticSeverity.Warning);
                analyzer.Check(telemetry.Spec, reporter);
                // Istio applies one namespace-wide Telemetry per namespace (the oldest); a second one is ignored.
                if (telemetry.Spec.Selector is not { MatchLabels.Count: > 0 } && !scopes.TryAdd(telemetry.EffectiveNamespace, parsed))
                {
                    var first = scopes[telemetry.EffectiveNamespace];
                    reporter.Report("metadata.name", $"namespace {telemetry.EffectiveNamespace} already has a Telemetry without selector ({first.Resource.Metadata.Name} at {first.Location.File}:{first.Location.Line}); only the first created applies");
                }
            }
            else if (parsed.Resource is Resources.Gateway gateway)
            {
                analyzer.Credentials(gateway, new Reporter(parsed, warnings, DiagnosticSeverity.Warning));
            }
        }
        return warnings;
    }

    /// <summary>Kubernetes DNS search-path expansion as seen from a namespace: "reviews" → "reviews.ns.svc.cluster.local".</summary>
    internal static string Fqdn(string host, string ns) => host.Count(c => c == '.') switch
    {
        _ when host.Contains('*', StringComparison.Ordinal) => host,
        0 => $"{host}.{ns}.svc.cluster.local",
        1 => $"{host}.svc.cluster.local",
        2 when host.EndsWith(".svc", StringComparison.OrdinalIgnoreCase) => $"{host}.cluster.local",
        _ => host,
    };

    private void Check(VirtualService vs, Reporter r)
    {
        var ns = vs.EffectiveNamespace;
        for (var i = 0; i < vs.Spec.Gateways.Count; i++)
        {
            GatewayReference(vs.Spec.Gateways[i], ns, $"spec.gateways[{i}]", r);
        }
        for (var i = 0; i < vs.Spec.Http.Count; i++)
        {
            var http = vs.Spec.Http[i];
            var path = $"spec.http[{i}]";
            for (var m = 0; m < http.Match.Count; m++)
            {
                for (var g = 0; g < http.Match[m].Gateways.Count; g++)
                {
                    GatewayReference(http.Match[m].Gateways[g], ns, $"{path}.match[{m}].gateways[{g}]", r);
                }
            }
            for (var d = 0; d < http.Route.Count; d++)
            {
                Destination(http.Route[d].Destination, ns, $"{path}.route[{d}].destination", r);
            }
            if (http.Mirror is { } mirror)
            {
                Destination(mirror, ns, $"{path}.mirror", r);
            }
            for (var d = 0; d < http.Mirrors.Count; d++)
            {
                Destination(http.Mirrors[d].Destination, ns, $"{path}.mirrors[{d}].destination", r);
            }
        }
        for (var i = 0; i < vs.Spec.Tcp.Count; i++)
        {
            for (var d = 0; d < vs.Spec.Tcp[i].Route.Count; d++)
            {
                Destination(vs.Spec.Tcp[i].Route[d].Destination, ns, $"spec.tcp[{i}].route[{d}].destination", r);
            }
        }
        for (var i = 0; i < vs.Spec.Tls.Count; i++)
        {
            for (var d = 0; d < vs.Spec.Tls[i].Route.Count; d++)
            {
                Destination(vs.Spec.Tls[i].Route[d].Destination, ns, $"spec.tls[{i}].route[{d}].destination", r);
            }
        }
    }

    /// <summary>Providers a Telemetry names must be meshConfig.extensionProviders (or Istio's built-in "envoy").</summary>
    private void Check(TelemetrySpec spec, Reporter r)
    {
        void Providers(IReadOnlyList<TelemetryProviderRef> providers, string path)
        {
            for (var i = 0; i < providers.Count; i++)
            {
                if (providers[i].Name.Length > 0 && !_providers.Contains(providers[i].Name))
                {
                    r.Report($"{path}[{i}].name", $"extension provider \"{providers[i].Name}\" is not defined in the mesh config (ConfigMap istio-system/istio, data.mesh.extensionProviders)");
                }
            }
        }

        for (var i = 0; i < spec.Tracing.Count; i++)
        {
            Providers(spec.Tracing[i].Providers, $"spec.tracing[{i}].providers");
        }

        for (var i = 0; i < spec.AccessLogging.Count; i++)
        {
            Providers(spec.AccessLogging[i].Providers, $"spec.accessLogging[{i}].providers");
        }
    }

    /// <summary>
    /// Istio's analyzer (IST0101) for credentialName: the Secret must exist where the gateway workload runs. Bowline's
    /// ingress gateway runs in istio-system; a Secret in the Gateway's own namespace is accepted too.
    /// </summary>
    private void Credentials(Resources.Gateway gateway, Reporter r)
    {
        for (var i = 0; i < gateway.Spec.Servers.Count; i++)
        {
            if (gateway.Spec.Servers[i].Tls is not { CredentialName: { Length: > 0 } credential } tls
                || tls.Mode is not (ServerTlsMode.Simple or ServerTlsMode.Mutual or ServerTlsMode.OptionalMutual))
            {
                continue;
            }

            var path = $"spec.servers[{i}].tls.credentialName";
            var name = SecretCredential.SecretName(credential);
            var secret = FindSecret(name, gateway.EffectiveNamespace);
            if (secret is null)
            {
                r.Report(path, $"referenced credential not found: no Secret \"{name}\" in namespace {GatewayNamespace}{(gateway.EffectiveNamespace == GatewayNamespace ? "" : " or " + gateway.EffectiveNamespace)}");
                continue;
            }

            var material = SecretCredential.From(secret);
            if (material.Certificate is null || material.PrivateKey is null)
            {
                r.Report(path, $"the Secret \"{name}\" has no certificate and key (tls.crt and tls.key, or cert and key)");
            }

            if (tls.Mode is ServerTlsMode.Mutual && material.CaCertificates is null
                && FindSecret(name + SecretCredential.CaSecretSuffix, gateway.EffectiveNamespace) is null)
            {
                r.Report(path, $"MUTUAL TLS needs a CA: neither the Secret \"{name}\" (ca.crt or cacert) nor a Secret \"{name}{SecretCredential.CaSecretSuffix}\" has one");
            }
        }
    }

    private const string GatewayNamespace = "istio-system";

    private KubeSecret? FindSecret(string name, string gatewayNamespace) =>
        _secrets.GetValueOrDefault($"{GatewayNamespace}/{name}") ?? _secrets.GetValueOrDefault($"{gatewayNamespace}/{name}");

    private void GatewayReference(string name, string ns, string path, Reporter r)
    {
        if (name == "mesh" || name.Length == 0)
        {
            return;
        }
        var key = name.Contains('/', StringComparison.Ordinal) ? name : $"{ns}/{name}";
        if (!_gateways.Contains(key))
        {
            r.Report(path, $"the gateway \"{name}\" does not exist");
        }
    }

    private void Destination(Destination destination, string ns, string path, Reporter r)
    {
        if (destination.Host.Length == 0)
        {
            return;
        }
        var fqdn = Fqdn(destination.Host, ns);
        if (!_serviceHosts.Contains(fqdn) && !IsServiceEntryHost(destination.Host) && !IsServiceEntryHost(fqdn))
        {
            r.Report($"{path}.host", $"the host \"{destination.Host}\" is not a known service (Service or ServiceEntry)");
        }
        if (destination.Subset is { Length: > 0 } subset && !(_subsetsByHost.TryGetValue(fqdn, out var subsets) && subsets.Contains(subset)))
        {
            r.Report($"{path}.subset", $"subset \"{subset}\" is not defined by any DestinationRule for host {fqdn}");
        }
    }

    /// <summary>ServiceEntry hosts may be wildcards ("*.example.com" covers "api.example.com").</summary>
    private bool IsServiceEntryHost(string host) => _entryHosts.Any(entry =>
        string.Equals(entry, host, StringComparison.OrdinalIgnoreCase)
        || (entry.StartsWith('*') && host.EndsWith(entry[1..], StringComparison.OrdinalIgnoreCase)));
}
