using Bowline.Proxy.Config;
using Bowline.Proxy.LoadBalancing;
using Bowline.Proxy.Routing;

namespace Bowline.Proxy.Pipeline;

/// <summary>
/// Per-request proxy facts, made by the listener application and handed to the pipeline and to whoever reports on the
/// request afterwards (access log, metrics, tracing): the response flags and where the request went.
/// </summary>
internal sealed class ProxyRequestFeature
{
    public ResponseFlags Flags { get; set; }
    public string? RouteName { get; set; }
    public string? ClusterName { get; set; }
    public string? UpstreamEndpoint { get; set; }

    /// <summary>A consistent-hash cookie the proxy generated, to set on the upstream response.</summary>
    public string? SetCookie { get; set; }

    /// <summary>Stopwatch timestamp when the proxy began handling the request (istio_request_duration_milliseconds).</summary>
    public long StartTimestamp { get; set; }

    /// <summary>The proxy terminated TLS on the request's connection (x-forwarded-proto https).</summary>
    public bool DownstreamTls { get; init; }

    /// <summary>The listener of the snapshot that handled the request; null when its listener was draining.</summary>
    public CompiledListener? Listener { get; set; }

    /// <summary>The route chosen (the first destination names the service of a request answered before picking one, e.g. a fault abort).</summary>
    public CompiledRoute? Route { get; set; }

    /// <summary>The cluster and endpoint of the last try; null when the request never got that far.</summary>
    public CompiledCluster? Cluster { get; set; }

    public UpstreamEndpoint? Endpoint { get; set; }

    /// <summary>Body bytes counted while streaming; -1 when not counted (the Content-Length then says it).</summary>
    public long RequestBodyBytes { get; set; } = -1;

    public long ResponseBodyBytes { get; set; } = -1;

    /// <summary>gRPC length-prefixed messages counted in each direction (gRPC requests only).</summary>
    public long RequestMessages { get; set; }

    public long ResponseMessages { get; set; }

    /// <summary>The request holds one of its cluster's maxRetries slots, released when it ends.</summary>
    public bool HoldsRetrySlot { get; set; }

    // --- telemetry (access logs, tracing) ---
    /// <summary>When the proxy took the request, wall clock (UTC), for %START_TIME% and span start.</summary>
    public DateTime StartTime { get; set; }
    /// <summary>The request's span when tracing is on (sampled or not: its ids go upstream either way).</summary>
    public Telemetry.Tracing.ActiveSpan? Span { get; set; }
    /// <summary>The kind of listener that took the request (null: no listener, e.g. draining).</summary>
    public Bowline.Api.Xds.ListenerKind? ListenerKind { get; set; }
    /// <summary>From sending upstream to the upstream's response headers, on the last try (x-envoy-upstream-service-time).</summary>
    public TimeSpan? UpstreamServiceTime { get; set; }
    /// <summary>Response body bytes counted while streaming; null when not counted (then the Content-Length says it).</summary>
    public long? BytesSent => ResponseBodyBytes >= 0 ? ResponseBodyBytes : null;
}
