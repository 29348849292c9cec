using System.Collections.Immutable;

namespace Bowline.Api.Xds;

/// <summary>
/// Everything one proxy needs, computed by the control plane for that proxy alone: the push contract's payload.
/// A proxy swaps it in whole (or rejects it whole): a <see cref="ConfigDelta"/> is first applied onto the current
/// config, and the resulting whole config is what gets validated and swapped in.
/// </summary>
public sealed record ProxyConfig
{
    public ImmutableArray<Listener> Listeners { get; init; } = [];
    public ImmutableArray<RouteTable> RouteTables { get; init; } = [];
    public ImmutableArray<Cluster> Clusters { get; init; } = [];

    // --- telemetry (access logs, tracing) ---
    /// <summary>Access log and tracing settings for this proxy; null = neither (and the version is as without it).</summary>
    public TelemetryConfig? Telemetry { get; init; }
}

public enum ListenerKind
{
    /// <summary>In front of the local app: forwards to <see cref="Listener.Cluster"/> (the app's port).</summary>
    Inbound,
    /// <summary>The app's calls (reached by HTTP_PROXY locally): routed by <see cref="Listener.RouteTable"/>.</summary>
    Outbound,
    /// <summary>An ingress/egress gateway server: routed by <see cref="Listener.RouteTable"/>.</summary>
    Gateway,
}

public sealed record Listener
{
    /// <summary>Stable name, e.g. "inbound|9080", "outbound", "gateway|8080".</summary>
    public required string Name { get; init; }
    public required ListenerKind Kind { get; init; }
    /// <summary>IP literal to bind, e.g. "127.0.0.1".</summary>
    public required string Address { get; init; }
    public required int Port { get; init; }
    /// <summary>Name of the <see cref="Xds.RouteTable"/> for Outbound and Gateway listeners.</summary>
    public string? RouteTable { get; init; }
    /// <summary>For Inbound listeners: the cluster (the local app) every request goes to.</summary>
    public string? Cluster { get; init; }
    /// <summary>Local rate limit for every request of this listener, unless its route has its own; null means none.</summary>
    public LocalRateLimit? RateLimit { get; init; }

    // --- TCP and TLS passthrough (see docs/contracts.md "TCP and TLS passthrough") ---

    /// <summary>What the listener speaks; null means <see cref="ListenerProtocol.Http"/> (every listener before TCP support).</summary>
    public ListenerProtocol? Protocol { get; init; }
    /// <summary>
    /// Tcp/Tls Gateway (and Outbound) listeners: the first route whose match fits the connection takes it; no match
    /// closes it (NR). Tcp/Tls Inbound listeners use <see cref="Cluster"/> instead. Null means none.
    /// </summary>
    public ImmutableArray<TcpRoute>? TcpRoutes { get; init; }

    // --- metrics (issue 5) ---
    /// <summary>
    /// The proxy's own workload: the source of requests through Outbound and Gateway listeners, the destination of
    /// requests through Inbound ones. Null: every such label is "unknown".
    /// </summary>
    public WorkloadMetadata? Workload { get; init; }

    /// <summary>Gateway listeners: TLS termination (HTTPS servers); null means plaintext (HTTP/1.1 and h2c).</summary>
    public ListenerTls? Tls { get; init; }
}

public enum ListenerProtocol
{
    /// <summary>HTTP/1.1 and h2c, routed per request (the default).</summary>
    Http,
    /// <summary>Opaque TCP: each connection is routed once and its bytes copied both ways.</summary>
    Tcp,
    /// <summary>Opaque TCP whose first bytes are a TLS ClientHello: routed by its SNI, bytes forwarded untouched (passthrough).</summary>
    Tls,
}

/// <summary>Istio's VirtualService tcp[] / tls[] route as one proxy sees it (port, gateways, source labels already resolved).</summary>
public sealed record TcpRoute
{
    public string? Name { get; init; }
    /// <summary>Any one matching is enough; empty means every connection.</summary>
    public ImmutableArray<TcpRouteMatch> Matches { get; init; } = [];
    /// <summary>Weighted destinations, one drawn per connection (their Headers are unused).</summary>
    public ImmutableArray<WeightedCluster> Destinations { get; init; } = [];
}

public sealed record TcpRouteMatch
{
    /// <summary>
    /// TLS SNI names, compared case-insensitively: exact, or "*.suffix" (matches any name ending in ".suffix"). Empty:
    /// any connection, with or without SNI. Only Tls listeners read SNI.
    /// </summary>
    public ImmutableArray<string> SniHosts { get; init; } = [];
    /// <summary>CIDRs ("10.0.0.0/8", "127.0.0.1") of the address the connection reached; empty: any.</summary>
    public ImmutableArray<string> DestinationSubnets { get; init; } = [];
}

public sealed record RouteTable
{
    public required string Name { get; init; }
    /// <summary>Searched in order; the first whose domains match the request's authority wins.</summary>
    public ImmutableArray<VirtualHost> VirtualHosts { get; init; } = [];
}

public sealed record VirtualHost
{
    public required string Name { get; init; }
    /// <summary>
    /// Authorities this host answers, compared case-insensitively: exact ("reviews", "reviews:9080"),
    /// suffix wildcard ("*.example.com"), or "*" for any.
    /// </summary>
    public ImmutableArray<string> Domains { get; init; } = [];
    /// <summary>First match wins (VirtualService order).</summary>
    public ImmutableArray<Route> Routes { get; init; } = [];
}

public sealed record Route
{
    /// <summary>Route name for debugging and metrics (VirtualService http[].name or "namespace/vs[i]").</summary>
    public string? Name { get; init; }
    /// <summary>Any one matching is enough; empty means match everything.</summary>
    public ImmutableArray<RouteMatch> Matches { get; init; } = [];
    /// <summary>
    /// Weighted destinations; weights sum to 100 (or a single entry of any weight). A route has exactly one action:
    /// destinations, <see cref="Redirect"/> or <see cref="DirectResponse"/>.
    /// </summary>
    public ImmutableArray<WeightedCluster> Destinations { get; init; } = [];
    /// <summary>Answered by the caller's proxy with a redirect (VirtualService http[].redirect); null means none.</summary>
    public RedirectAction? Redirect { get; init; }
    /// <summary>Answered by the caller's proxy with a fixed response (http[].directResponse); null means none.</summary>
    public DirectResponseAction? DirectResponse { get; init; }
    /// <summary>Path/authority rewrite before forwarding (http[].rewrite); null means none.</summary>
    public RewritePolicy? Rewrite { get; init; }
    /// <summary>Header edits for every destination of the route (http[].headers); null means none.</summary>
    public HeaderPolicy? Headers { get; init; }
    /// <summary>CORS answered/decorated by the caller's proxy (http[].corsPolicy); null means none.</summary>
    public CorsPolicy? Cors { get; init; }
    /// <summary>Whole-request timeout; null means none.</summary>
    public TimeSpan? Timeout { get; init; }
    public RetryPolicy? Retries { get; init; }
    /// <summary>Faults the caller's proxy injects before forwarding (VirtualService http[].fault); null means none.</summary>
    public FaultPolicy? Fault { get; init; }
    /// <summary>
    /// Clusters that get a fire-and-forget copy of a sampled share of the route's requests (http[].mirror / mirrors);
    /// only for routes with destinations. Empty means none.
    /// </summary>
    public ImmutableArray<MirrorPolicy> Mirrors { get; init; } = [];
    /// <summary>Local rate limit for this route's requests, replacing the listener's; null means the listener's (if any).</summary>
    public LocalRateLimit? RateLimit { get; init; }
}

/// <summary>
/// Envoy's request mirror policy: the copy goes to <see cref="Cluster"/> with "-shadow" appended to the host part of
/// its authority; its response is discarded and it never delays or fails the real request.
/// </summary>
public sealed record MirrorPolicy
{
    public required string Cluster { get; init; }
    /// <summary>Share of the route's requests mirrored, 0–100.</summary>
    public double Percentage { get; init; } = 100;
}

public sealed record RouteMatch
{
    public StringMatch? Uri { get; init; }
    public StringMatch? Method { get; init; }
    public StringMatch? Authority { get; init; }
    public StringMatch? Scheme { get; init; }
    /// <summary>Header name (lower case) to match; an empty StringMatch means "present".</summary>
    public ImmutableDictionary<string, StringMatch> Headers { get; init; } = ImmutableDictionary<string, StringMatch>.Empty;
    /// <summary>Headers that must not match.</summary>
    public ImmutableDictionary<string, StringMatch> WithoutHeaders { get; init; } = ImmutableDictionary<string, StringMatch>.Empty;
    public ImmutableDictionary<string, StringMatch> QueryParams { get; init; } = ImmutableDictionary<string, StringMatch>.Empty;
    public bool IgnoreUriCase { get; init; }
    /// <summary>Listener port the request arrived on, when the match names one.</summary>
    public int? Port { get; init; }
}

/// <summary>Exactly one of Exact, Prefix, Regex (RE2-style, full match) is set; none set means "any value present".</summary>
public sealed record StringMatch
{
    public string? Exact { get; init; }
    public string? Prefix { get; init; }
    public string? Regex { get; init; }
}

public sealed record WeightedCluster
{
    public required string Cluster { get; init; }
    public int Weight { get; init; } = 100;
    /// <summary>Header edits applied when this destination is picked (http[].route[].headers); null means none.</summary>
    public HeaderPolicy? Headers { get; init; }
}

public sealed record RetryPolicy
{
    public int Attempts { get; init; }
    public TimeSpan? PerTryTimeout { get; init; }
    public string? RetryOn { get; init; }
    /// <summary>Statuses retried under "retriable-status-codes" (Istio moves numeric retryOn entries here).</summary>
    public ImmutableArray<int> RetriableStatusCodes { get; init; } = [];
}

/// <summary>
/// Envoy's fault filter for one route: the delay (if drawn) first, then the abort (if drawn). Both run before the
/// router, so neither the route timeout nor retries see them.
/// </summary>
public sealed record FaultPolicy
{
    public FaultDelay? Delay { get; init; }
    public FaultAbort? Abort { get; init; }
}

public sealed record FaultDelay
{
    public required TimeSpan FixedDelay { get; init; }
    /// <summary>Share of requests delayed, 0–100.</summary>
    public double Percentage { get; init; } = 100;
}

/// <summary>Exactly one of HttpStatus (200–599) and GrpcStatus (numeric gRPC code, answered as HTTP 200) is set.</summary>
public sealed record FaultAbort
{
    public int? HttpStatus { get; init; }
    public int? GrpcStatus { get; init; }
    /// <summary>Share of requests aborted, 0–100.</summary>
    public double Percentage { get; init; } = 100;
}

public enum UpstreamProtocol
{
    Http1,
    /// <summary>HTTP/2 with prior knowledge (h2c) — Service ports named http2/grpc.</summary>
    Http2,
}

public sealed record Cluster
{
    /// <summary>Istio-style name: "outbound|9080|v1|reviews.default.svc.cluster.local" or "inbound|9080||".</summary>
    public required string Name { get; init; }
    public UpstreamProtocol Protocol { get; init; } = UpstreamProtocol.Http1;
    public ImmutableArray<Endpoint> Endpoints { get; init; } = [];
    /// <summary>
    /// Istio service FQDN this cluster belongs to, when it has one (for metrics and logs). Inbound clusters carry the
    /// first Kubernetes Service selecting the pod on that port (destination_service on the callee's side).
    /// </summary>
    public string? Service { get; init; }
    public string? Subset { get; init; }
    /// <summary>DestinationRule loadBalancer; null means round robin.</summary>
    public LoadBalancer? LoadBalancer { get; init; }
    /// <summary>DestinationRule connectionPool; null means no limits and the proxy's connection defaults.</summary>
    public ConnectionPool? ConnectionPool { get; init; }
    /// <summary>DestinationRule outlierDetection; null means none.</summary>
    public OutlierDetection? OutlierDetection { get; init; }
    /// <summary>How the cluster finds its upstream (egress); null means <see cref="ClusterType.Static"/>.</summary>
    public ClusterType? Type { get; init; }
}

/// <summary>Envoy's cluster discovery types, as far as Bowline has them.</summary>
public enum ClusterType
{
    /// <summary>The pushed <see cref="Cluster.Endpoints"/> (an address may be a DNS name: resolved by the proxy on connect).</summary>
    Static,
    /// <summary>
    /// Envoy's ORIGINAL_DST: no endpoints; each request goes to the host:port the app asked for (its absolute URI or
    /// Host, port 80 when it names none). Istio's PassthroughCluster and ServiceEntries with resolution NONE.
    /// </summary>
    OriginalDestination,
}

/// <summary>Names Istio gives its egress catch-alls; the proxy keys its blackhole counter on <see cref="BlockAll"/>.</summary>
public static class EgressNames
{
    /// <summary>The ORIGINAL_DST cluster of ALLOW_ANY.</summary>
    public const string PassthroughCluster = "PassthroughCluster";
    /// <summary>What REGISTRY_ONLY refusals are reported as (metrics' destination_service_name).</summary>
    public const string BlackHoleCluster = "BlackHoleCluster";
    /// <summary>The "*" virtual host and route of ALLOW_ANY.</summary>
    public const string AllowAny = "allow_any";
    /// <summary>The "*" virtual host and route of REGISTRY_ONLY: a direct response 502.</summary>
    public const string BlockAll = "block_all";
}

public sealed record Endpoint
{
    public required string Address { get; init; }
    public required int Port { get; init; }
    /// <summary>Pod name of the endpoint, for debugging ("reviews-v1-0").</summary>
    public string? Pod { get; init; }
    /// <summary>Relative load-balancing weight (ServiceEntry endpoint weight); null means 1.</summary>
    public int? Weight { get; init; }

    // --- metrics (issue 5) ---
    /// <summary>The endpoint's workload (destination_* labels on the caller's side); null for non-pod endpoints.</summary>
    public WorkloadMetadata? Workload { get; init; }
}
