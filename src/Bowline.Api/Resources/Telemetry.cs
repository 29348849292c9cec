namespace Bowline.Api.Resources;

// Istio telemetry.istio.io Telemetry (v1, v1alpha1): access logging and tracing per mesh (root namespace), namespace or
// workload (selector). Metrics entries are accepted and left to the metrics side.

public sealed record Telemetry : Resource
{
    public TelemetrySpec Spec { get; init; } = new();
}

public sealed record TelemetrySpec
{
    public WorkloadSelector? Selector { get; init; }
    public IReadOnlyList<TelemetryTargetRef> TargetRefs { get; init; } = [];
    public TelemetryTargetRef? TargetRef { get; init; }
    public IReadOnlyList<TelemetryTracing> Tracing { get; init; } = [];
    public IReadOnlyList<TelemetryAccessLogging> AccessLogging { get; init; } = [];
    public IReadOnlyList<TelemetryMetrics> Metrics { get; init; } = [];
}

public sealed record TelemetryTargetRef
{
    public string? Group { get; init; }
    public string? Kind { get; init; }
    public string? Name { get; init; }
    public string? Namespace { get; init; }
}

public sealed record TelemetryProviderRef
{
    public string Name { get; init; } = "";
}

public enum WorkloadMode
{
    ClientAndServer,
    Client,
    Server,
}

public sealed record TelemetrySelectorMode
{
    public WorkloadMode? Mode { get; init; }
}

public sealed record TelemetryTracing
{
    public TelemetrySelectorMode? Match { get; init; }
    public IReadOnlyList<TelemetryProviderRef> Providers { get; init; } = [];
    /// <summary>0–100; unset inherits, in the end meshConfig.defaultConfig.tracing.sampling (Istio's default 1).</summary>
    public double? RandomSamplingPercentage { get; init; }
    public bool? DisableSpanReporting { get; init; }
    public IReadOnlyDictionary<string, TelemetryCustomTag> CustomTags { get; init; } = new Dictionary<string, TelemetryCustomTag>();
    public bool? UseRequestIdForTraceSampling { get; init; }
    public bool? EnableIstioTags { get; init; }
}

public sealed record TelemetryCustomTag
{
    public TelemetryLiteral? Literal { get; init; }
    public TelemetryNamedValue? Environment { get; init; }
    public TelemetryNamedValue? Header { get; init; }
}

public sealed record TelemetryLiteral
{
    public string Value { get; init; } = "";
}

public sealed record TelemetryNamedValue
{
    public string Name { get; init; } = "";
    public string? DefaultValue { get; init; }
}

public sealed record TelemetryAccessLogging
{
    public TelemetrySelectorMode? Match { get; init; }
    public IReadOnlyList<TelemetryProviderRef> Providers { get; init; } = [];
    public bool? Disabled { get; init; }
    public TelemetryFilter? Filter { get; init; }
}

public sealed record TelemetryFilter
{
    public string Expression { get; init; } = "";
}

/// <summary>Metrics overrides: Istio's schema, accepted; the metrics side decides what it honours.</summary>
[LenientFields]
public sealed record TelemetryMetrics
{
    public IReadOnlyList<TelemetryProviderRef> Providers { get; init; } = [];
    public TimeSpan? ReportingInterval { get; init; }
}
