using Bowline.Api.Resources;

namespace Bowline.Api.Yaml;

/// <summary>Which apiVersion + kind pairs Bowline reads, and what to say about the others.</summary>
internal static class ResourceKinds
{
    public const string IstioNetworking = "networking.istio.io";
    public const string Bowline = "bowline.io";
    public const string IstioTelemetry = "telemetry.istio.io";

    private static readonly string[] IstioVersions = ["v1", "v1beta1", "v1alpha3"];

    private static readonly Dictionary<string, Type> IstioKinds = new(StringComparer.Ordinal)
    {
        ["VirtualService"] = typeof(VirtualService),
        ["DestinationRule"] = typeof(DestinationRule),
        ["Gateway"] = typeof(Gateway),
        ["ServiceEntry"] = typeof(ServiceEntry),
        ["WorkloadEntry"] = typeof(WorkloadEntry),
    };

    /// <summary>Real networking.istio.io kinds Bowline does not implement: warned about, unlike a misspelt kind.</summary>
    private static readonly HashSet<string> IstioKindsNotUsed = new(StringComparer.Ordinal)
    {
        "Sidecar", "WorkloadGroup", "ProxyConfig",
    };

    /// <summary>Kubernetes kinds by group ("" is the core group) and their one supported version.</summary>
    private static readonly Dictionary<(string Group, string Kind), (string Version, Type Type)> KubeKinds = new()
    {
        [("", "Service")] = ("v1", typeof(KubeService)),
        [("", "ServiceAccount")] = ("v1", typeof(ServiceAccount)),
        [("", "Secret")] = ("v1", typeof(KubeSecret)),
        [("apps", "Deployment")] = ("v1", typeof(Deployment)),
        [("", "ConfigMap")] = ("v1", typeof(ConfigMap)),
        // Bowline's own kinds go through the same path: one group, one version each.
        [(Bowline, "LocalRateLimit")] = ("v1alpha1", typeof(LocalRateLimitResource)),
    };

    public abstract record Outcome;

    public sealed record Bind(Type Type) : Outcome;

    public sealed record Refuse(string Message) : Outcome;

    public sealed record Ignore(string Message) : Outcome;

    public static Outcome Resolve(string apiVersion, string kind)
    {
        var slash = apiVersion.LastIndexOf('/');
        var (group, version) = slash < 0 ? ("", apiVersion) : (apiVersion[..slash], apiVersion[(slash + 1)..]);
        if (group == IstioNetworking)
        {
            if (IstioKinds.TryGetValue(kind, out var istioType))
            {
                return IstioVersions.Contains(version)
                    ? new Bind(istioType)
                    : new Refuse($"unknown apiVersion \"{apiVersion}\" for {kind} (expected {IstioNetworking}/v1, v1beta1 or v1alpha3)");
            }
            if (kind == "EnvoyFilter")
            {
                // Only v1alpha3 exists for EnvoyFilter; Bowline reads its local rate limit patches (EnvoyFilterRateLimits).
                return version == "v1alpha3"
                    ? new Bind(typeof(EnvoyFilter))
                    : new Refuse($"unknown apiVersion \"{apiVersion}\" for EnvoyFilter (expected {IstioNetworking}/v1alpha3)");
            }

            return IstioKindsNotUsed.Contains(kind)
                ? new Ignore(NotUsed(apiVersion, kind))
                : new Refuse($"unknown kind \"{kind}\" in {IstioNetworking}");
        }
        if (group == IstioTelemetry)
        {
            return kind != "Telemetry"
                ? new Refuse($"unknown kind \"{kind}\" in {IstioTelemetry}")
                : version is "v1" or "v1alpha1"
                    ? new Bind(typeof(Telemetry))
                    : new Refuse($"unknown apiVersion \"{apiVersion}\" for Telemetry (expected {IstioTelemetry}/v1 or v1alpha1)");
        }
        // An Istio kind under another apiVersion is almost surely a typo ("networking.istio.io/v1alpha", "v1"), not some
        // other API's kind: refuse it rather than silently ignore a route. Gateway is the exception, as the Kubernetes
        // Gateway API (gateway.networking.k8s.io) has its own Gateway kind.
        if (IstioKinds.ContainsKey(kind) && !(kind == "Gateway" && group.Length > 0))
        {
            return new Refuse($"unknown apiVersion \"{apiVersion}\" for {kind} (expected {IstioNetworking}/v1, v1beta1 or v1alpha3)");
        }
        if (KubeKinds.TryGetValue((group, kind), out var kube))
        {
            return version == kube.Version
                ? new Bind(kube.Type)
                : new Refuse($"unknown apiVersion \"{apiVersion}\" for {kind} (expected {(group.Length == 0 ? "" : group + "/")}{kube.Version})");
        }
        return new Ignore(NotUsed(apiVersion, kind));
    }

    private static string NotUsed(string apiVersion, string kind) => $"{kind} ({apiVersion}) is not used by Bowline yet; ignored";
}
