using System.Collections.Immutable;

namespace Bowline.Api.Xds;

// The push contract's telemetry section (ProxyConfig.Telemetry): what one proxy logs and traces, resolved by the
// control plane from the mesh config (ConfigMap istio-system/istio) and Telemetry resources. Null = neither.

public sealed record TelemetryConfig
{
    /// <summary>Null: no access log (the default).</summary>
    public AccessLogConfig? AccessLog { get; init; }
    /// <summary>Null: the proxy makes no spans; trace headers still pass through unchanged.</summary>
    public TracingConfig? Tracing { get; init; }
}

public enum LogEncoding
{
    Text,
    Json,
}

public sealed record AccessLogConfig
{
    /// <summary>A file path; "/dev/stdout" writes to the proxy's standard output.</summary>
    public required string Path { get; init; }
    public LogEncoding Encoding { get; init; } = LogEncoding.Text;
    /// <summary>Envoy format string (TEXT) or JSON object of field → format string (JSON); null = Istio's default.</summary>
    public string? Format { get; init; }
}

public enum TracingProvider
{
    /// <summary>OTLP/HTTP with JSON bodies (POST to <see cref="TracingConfig.Endpoint"/>, e.g. http://host:4318/v1/traces).</summary>
    OpenTelemetry,
    /// <summary>Zipkin v2 JSON (POST to <see cref="TracingConfig.Endpoint"/>, e.g. http://host:9411/api/v2/spans).</summary>
    Zipkin,
}

public sealed record TracingConfig
{
    /// <summary>Share of new traces sampled, 0–100 (Istio's default 1). An incoming decision is honoured.</summary>
    public double SamplingPercentage { get; init; } = 1;
    public TracingProvider Provider { get; init; }
    /// <summary>Absolute http:// URL the spans are POSTed to.</summary>
    public required string Endpoint { get; init; }
    /// <summary>Telemetry disableSpanReporting: trace context is still propagated, spans are not sent.</summary>
    public bool DisableSpanReporting { get; init; }
    /// <summary>Literal custom tags added to every span.</summary>
    public ImmutableSortedDictionary<string, string> CustomTags { get; init; } = ImmutableSortedDictionary<string, string>.Empty;
    /// <summary>Longest http.url tag (Istio's maxPathTagLength, default 256).</summary>
    public int MaxPathTagLength { get; init; } = 256;
    /// <summary>The proxy's own workload, for span tags and the span's service name: Istio's canonical service (app label / workload).</summary>
    public string? CanonicalService { get; init; }
    /// <summary>Istio's canonical revision (version label, else "latest").</summary>
    public string? CanonicalRevision { get; init; }
    public string? MeshId { get; init; }
    /// <summary>Sidecars: container port → "{service FQDN}:{service port}" it serves, for inbound span names.</summary>
    public ImmutableSortedDictionary<int, string> InboundServices { get; init; } = ImmutableSortedDictionary<int, string>.Empty;
}
