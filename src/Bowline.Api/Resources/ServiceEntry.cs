namespace Bowline.Api.Resources;

// Istio networking.istio.io ServiceEntry.

public sealed record ServiceEntry : Resource
{
    public ServiceEntrySpec Spec { get; init; } = new();
}

public enum ServiceEntryLocation
{
    MeshExternal,
    MeshInternal,
}

public enum ServiceEntryResolution
{
    None,
    Static,
    Dns,
    DnsRoundRobin,
}

public sealed record ServiceEntrySpec
{
    public IReadOnlyList<string> Hosts { get; init; } = [];
    public IReadOnlyList<string> Addresses { get; init; } = [];
    public IReadOnlyList<GatewayPort> Ports { get; init; } = [];
    public ServiceEntryLocation? Location { get; init; }
    public ServiceEntryResolution? Resolution { get; init; }
    public IReadOnlyList<WorkloadEntrySpec> Endpoints { get; init; } = [];
    public ServiceEntryWorkloadSelector? WorkloadSelector { get; init; }
    public IReadOnlyList<string> ExportTo { get; init; } = [];
    public IReadOnlyList<string> SubjectAltNames { get; init; } = [];
}

/// <summary>Istio networking.istio.io WorkloadEntry: a workload outside Kubernetes, selected by ServiceEntries' workloadSelector.</summary>
public sealed record WorkloadEntry : Resource
{
    public WorkloadEntrySpec Spec { get; init; } = new();
}

/// <summary>A ServiceEntry endpoint (Istio's WorkloadEntry spec).</summary>
public sealed record WorkloadEntrySpec
{
    public string? Address { get; init; }
    public IReadOnlyDictionary<string, int> Ports { get; init; } = new Dictionary<string, int>();
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    public string? Network { get; init; }
    public string? Locality { get; init; }
    public int? Weight { get; init; }
    public string? ServiceAccount { get; init; }
}

/// <summary>networking.v1alpha3 WorkloadSelector: "labels" (DestinationRule's type.v1beta1 selector says "matchLabels").</summary>
public sealed record ServiceEntryWorkloadSelector
{
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
}
