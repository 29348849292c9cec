using System.Net;
using System.Net.Sockets;
using Bowline.Api.Xds;
using Bowline.Proxy.Telemetry.Metrics;

namespace Bowline.Proxy.LoadBalancing;

/// <summary>
/// One endpoint of a cluster, with its URI prefix precomputed (requests append the origin-form target), and the
/// per-endpoint state the request path updates lock-free: active requests (least request) and consecutive errors
/// (outlier detection). The same object is reused by the next config while the cluster keeps the endpoint, so that
/// state survives config pushes.
/// </summary>
internal sealed class UpstreamEndpoint
{
    private int _active;
    private int _consecutive5xx;
    private int _consecutiveGateway;
    private TargetUri? _lastUri;
    private Forwarding.Http1.Http1Pool? _http1Pool;

    /// <param name="workload">The endpoint's workload (destination_* labels); null for non-pod endpoints.</param>
    /// <param name="service">The cluster's service FQDN (destination_service).</param>
    public UpstreamEndpoint(string address, int port, string? pod, WorkloadMetadata? workload = null, string? service = null)
    {
        Address = address;
        Port = port;
        Pod = pod;
        Workload = workload;
        MetricLabels = WorkloadLabels.Destination(workload, service);
        var host = IPAddress.TryParse(address, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address;
        UriPrefix = $"http://{host}:{port}";
        HashKey = $"{address}:{port}";
    }

    public string Address { get; }
    public int Port { get; }
    public string? Pod { get; }

    /// <summary>The endpoint's workload; a caller's proxy sends its peer metadata only to such (mesh) endpoints.</summary>
    public WorkloadMetadata? Workload { get; }

    /// <summary>destination_* labels of requests to this endpoint, resolved once (the endpoint object outlives pushes).</summary>
    public LabelPart MetricLabels { get; }
    public string UriPrefix { get; }

    /// <summary>
    /// The absolute upstream URI of an origin-form target. The last one is kept: requests to an endpoint mostly repeat
    /// a few paths, and a hit saves the string concatenation, the Uri parse and the strings HttpClient derives from it
    /// (host, path and query) — per request. Lock-free: racing requests just replace each other's entry.
    /// </summary>
    public Uri UriFor(string target)
    {
        var last = Volatile.Read(ref _lastUri);
        if (last is not null && string.Equals(last.Target, target, StringComparison.Ordinal))
        {
            return last.Uri;
        }

        var uri = new Uri(UriPrefix + target, UriKind.Absolute);
        Volatile.Write(ref _lastUri, new TargetUri(target, uri));
        return uri;
    }

    /// <summary>
    /// Idle HTTP/1.1 connections of Bowline's own client to this endpoint, made on first use. On the endpoint, so they
    /// survive config pushes with it (clusters using this client have no connectionPool settings: default timeouts).
    /// </summary>
    public Forwarding.Http1.Http1Pool Http1Pool
    {
        get
        {
            if (Volatile.Read(ref _http1Pool) is { } pool)
            {
                return pool;
            }

            var created = new Forwarding.Http1.Http1Pool(Address, Port, Forwarding.UpstreamClient.DefaultIdleTimeout, Forwarding.UpstreamClient.DefaultConnectTimeout);
            return Interlocked.CompareExchange(ref _http1Pool, created, null) ?? created;
        }
    }

    /// <summary>"address:port": what consistent hashing places on the ring, the same in every proxy.</summary>
    public string HashKey { get; }

    /// <summary>Requests in flight to this endpoint (counted only for least-request clusters).</summary>
    public int ActiveRequests => Volatile.Read(ref _active);

    public void BeginRequest() => Interlocked.Increment(ref _active);

    public void EndRequest() => Interlocked.Decrement(ref _active);

    /// <summary>Set and cleared by the cluster's <see cref="OutlierDetector"/> (under its lock); read lock-free.</summary>
    public bool Ejected { get; set; }

    /// <summary>Ejections that still lengthen the next one (Envoy's eject time back-off); detector-owned.</summary>
    public int EjectionMultiplier { get; set; }

    /// <summary><see cref="TimeProvider.GetTimestamp"/> of the current ejection; detector-owned.</summary>
    public long EjectedAt { get; set; }

    /// <summary>Counts one more 5xx; the new count.</summary>
    public int Add5xx() => Interlocked.Increment(ref _consecutive5xx);

    public int AddGatewayError() => Interlocked.Increment(ref _consecutiveGateway);

    /// <summary>A success: both runs are broken. Reads first so a healthy endpoint's cache line is not written per request.</summary>
    public void ResetErrors()
    {
        if (Volatile.Read(ref _consecutive5xx) != 0)
        {
            Volatile.Write(ref _consecutive5xx, 0);
        }

        ResetGatewayErrors();
    }

    public void ResetGatewayErrors()
    {
        if (Volatile.Read(ref _consecutiveGateway) != 0)
        {
            Volatile.Write(ref _consecutiveGateway, 0);
        }
    }

    /// <summary>Whether a new config's endpoint is this one, so its state carries over.</summary>
    public bool SameAs(Api.Xds.Endpoint endpoint) =>
        endpoint.Address == Address && endpoint.Port == Port && endpoint.Pod == Pod && endpoint.Workload == Workload;

    private sealed record TargetUri(string Target, Uri Uri);
}
