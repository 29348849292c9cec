namespace Bowline.Proxy.Pipeline;

/// <summary>
/// Per-request proxy facts on <c>HttpContext.Features</c>, for whoever reports on the request afterwards (access log,
/// metrics): the response flags and where the request went.
/// </summary>
internal sealed class ProxyRequestFeature
{
    public ResponseFlags Flags { get; set; }
    public string? RouteName { get; set; }
    public string? ClusterName { get; set; }
    public string? UpstreamEndpoint { get; set; }

    /// <summary>A consistent-hash cookie the proxy generated, to set on the upstream response.</summary>
    public string? SetCookie { get; set; }

    /// <summary>The request holds one of its cluster's maxRetries slots, released when it ends.</summary>
    public bool HoldsRetrySlot { get; set; }

    // --- telemetry (access logs, tracing) ---
    /// <summary>When the proxy took the request (<see cref="System.Diagnostics.Stopwatch"/> ticks), for durations.</summary>
    public long StartTimestamp { get; set; }
    /// <summary>When the proxy took the request, wall clock (UTC), for %START_TIME% and span start.</summary>
    public DateTime StartTime { get; set; }
    /// <summary>The kind of listener that took the request (null: no listener, e.g. draining).</summary>
    public Bowline.Api.Xds.ListenerKind? ListenerKind { get; set; }
    /// <summary>From sending upstream to the upstream's response headers, on the last try (x-envoy-upstream-service-time).</summary>
    public TimeSpan? UpstreamServiceTime { get; set; }
    /// <summary>Body bytes sent from an upstream response; null when the proxy answered itself (then Content-Length).</summary>
    public long? BytesSent { get; set; }
}
