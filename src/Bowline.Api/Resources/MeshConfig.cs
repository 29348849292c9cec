namespace Bowline.Api.Resources;

// Istio's MeshConfig (the `mesh` key of the istio ConfigMap): the telemetry and outbound traffic fields Bowline acts
// on. The message has many more fields (trust domain, ...); those are accepted and ignored, so the record is lenient.

/// <summary>Istio's meshConfig.outboundTrafficPolicy.mode: what a sidecar does with a host the registry does not know.</summary>
public enum OutboundTrafficPolicyMode
{
    /// <summary>Istio's default: forward to the host the app asked for (Envoy's PassthroughCluster).</summary>
    AllowAny,
    /// <summary>Refuse it: 502 from the "block_all" virtual host (Istio's BlackHoleCluster).</summary>
    RegistryOnly,
}

public sealed record MeshOutboundTrafficPolicy
{
    public OutboundTrafficPolicyMode? Mode { get; init; }
}

public enum AccessLogEncoding
{
    Text,
    Json,
}

[LenientFields]
public sealed record MeshConfig
{
    /// <summary>Where every proxy writes its access log ("/dev/stdout" for the process output); empty = off.</summary>
    public string? AccessLogFile { get; init; }
    public AccessLogEncoding? AccessLogEncoding { get; init; }
    /// <summary>Envoy command-operator format; for JSON a JSON object of field → operator string.</summary>
    public string? AccessLogFormat { get; init; }
    /// <summary>Istio's default is true: tracing is on whenever a tracing provider is configured.</summary>
    public bool? EnableTracing { get; init; }
    public string? MeshId { get; init; }
    /// <summary>Where mesh-wide Telemetry lives; Istio's default "istio-system".</summary>
    public string? RootNamespace { get; init; }
    public MeshProxyConfig? DefaultConfig { get; init; }
    public IReadOnlyList<MeshExtensionProvider> ExtensionProviders { get; init; } = [];
    public MeshDefaultProviders? DefaultProviders { get; init; }
    public MeshOutboundTrafficPolicy? OutboundTrafficPolicy { get; init; }

    /// <summary>outboundTrafficPolicy.mode, Istio's default ALLOW_ANY when unset.</summary>
    public OutboundTrafficPolicyMode OutboundMode => OutboundTrafficPolicy?.Mode ?? OutboundTrafficPolicyMode.AllowAny;

    /// <summary>The mesh config among <paramref name="configMaps"/> (the "istio-system/istio" ConfigMap), else the defaults.</summary>
    public static MeshConfig From(IEnumerable<ConfigMap> configMaps) =>
        configMaps.FirstOrDefault(c => c.IsMeshConfig)?.Mesh ?? new MeshConfig();
}

/// <summary>meshConfig.defaultConfig (Istio's ProxyConfig): only tracing is read.</summary>
[LenientFields]
public sealed record MeshProxyConfig
{
    public MeshTracing? Tracing { get; init; }
}

public sealed record MeshTracing
{
    /// <summary>Percentage of requests sampled, 0–100; Istio's default 1.</summary>
    public double? Sampling { get; init; }
    public MeshZipkinAddress? Zipkin { get; init; }
    public int? MaxPathTagLength { get; init; }
    public IReadOnlyDictionary<string, TelemetryCustomTag> CustomTags { get; init; } = new Dictionary<string, TelemetryCustomTag>();
    public MeshTracingTlsSettings? TlsSettings { get; init; }
}

[LenientFields]
public sealed record MeshTracingTlsSettings;

public sealed record MeshZipkinAddress
{
    /// <summary>"host:port" of a Zipkin collector (the legacy way to name one).</summary>
    public string? Address { get; init; }
}

public sealed record MeshDefaultProviders
{
    public IReadOnlyList<string> Tracing { get; init; } = [];
    public IReadOnlyList<string> AccessLogging { get; init; } = [];
    public IReadOnlyList<string> Metrics { get; init; } = [];
}

/// <summary>One extensionProviders entry: a name and one provider kind. Kinds Bowline does not model are accepted.</summary>
[LenientFields]
public sealed record MeshExtensionProvider
{
    public string Name { get; init; } = "";
    public MeshOpenTelemetryProvider? Opentelemetry { get; init; }
    public MeshZipkinProvider? Zipkin { get; init; }
    public MeshFileAccessLogProvider? EnvoyFileAccessLog { get; init; }
}

[LenientFields]
public sealed record MeshOpenTelemetryProvider
{
    public string Service { get; init; } = "";
    public int Port { get; init; }
    public int? MaxTagLength { get; init; }
    /// <summary>OTLP/HTTP; without it the provider speaks OTLP/gRPC, which Bowline cannot send.</summary>
    public MeshOtlpHttp? Http { get; init; }
}

[LenientFields]
public sealed record MeshOtlpHttp
{
    /// <summary>Istio's default "/v1/traces".</summary>
    public string? Path { get; init; }
    public TimeSpan? Timeout { get; init; }
}

[LenientFields]
public sealed record MeshZipkinProvider
{
    public string Service { get; init; } = "";
    public int Port { get; init; }
    public int? MaxTagLength { get; init; }
}

public sealed record MeshFileAccessLogProvider
{
    public string? Path { get; init; }
    public MeshLogFormat? LogFormat { get; init; }
}

public sealed record MeshLogFormat
{
    public string? Text { get; init; }
    public IReadOnlyDictionary<string, string>? Labels { get; init; }
}
