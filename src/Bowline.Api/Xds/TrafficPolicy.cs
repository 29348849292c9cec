namespace Bowline.Api.Xds;

/// <summary>
/// How a cluster picks an endpoint. The control plane has already merged the DestinationRule's levels (top level →
/// port level → subset → subset port level), so this is the one effective policy of the cluster.
/// </summary>
public enum LoadBalancerPolicy
{
    RoundRobin,
    /// <summary>Envoy's LEAST_REQUEST: the less loaded of two random endpoints (power of two choices).</summary>
    LeastRequest,
    Random,
    /// <summary>Istio's PASSTHROUGH (Envoy's original destination). Nothing here has an original destination, so the
    /// proxy accepts it and balances round robin.</summary>
    Passthrough,
}

public sealed record LoadBalancer
{
    public LoadBalancerPolicy Policy { get; init; } = LoadBalancerPolicy.RoundRobin;
    /// <summary>When set, it decides the endpoint and <see cref="Policy"/> is unused (Istio's consistentHash).</summary>
    public ConsistentHash? ConsistentHash { get; init; }
}

public enum ConsistentHashAlgorithm
{
    RingHash,
    Maglev,
}

/// <summary>
/// Exactly one hash key source: <see cref="HttpHeaderName"/>, <see cref="HttpCookie"/>,
/// <see cref="HttpQueryParameterName"/> or <see cref="UseSourceIp"/>. A request without the key gets a random endpoint.
/// </summary>
public sealed record ConsistentHash
{
    public string? HttpHeaderName { get; init; }
    public HashCookie? HttpCookie { get; init; }
    public string? HttpQueryParameterName { get; init; }
    public bool UseSourceIp { get; init; }
    public ConsistentHashAlgorithm Algorithm { get; init; } = ConsistentHashAlgorithm.RingHash;
    /// <summary>Ring entries at least (ring hash); Istio's and Envoy's default 1024.</summary>
    public long MinimumRingSize { get; init; } = 1024;
    /// <summary>Lookup table size, a prime (Maglev); Envoy's default 65537.</summary>
    public long TableSize { get; init; } = 65537;
}

/// <summary>Hash on a cookie; with a <see cref="Ttl"/> the proxy sets the cookie on the response when the request has none.</summary>
public sealed record HashCookie
{
    public required string Name { get; init; }
    public string? Path { get; init; }
    /// <summary>Null: never generate the cookie. Zero: generate a session cookie (no Max-Age).</summary>
    public TimeSpan? Ttl { get; init; }
}

/// <summary>Envoy's circuit breakers and connection settings for one cluster, per proxy. Null limits mean unlimited.</summary>
public sealed record ConnectionPool
{
    /// <summary>Upstream connections to the whole cluster (tcp.maxConnections).</summary>
    public int? MaxConnections { get; init; }
    /// <summary>Requests allowed to wait for a connection (http.http1MaxPendingRequests); beyond → 503 UO.</summary>
    public int? MaxPendingRequests { get; init; }
    /// <summary>Requests in flight to the cluster (http.http2MaxRequests); beyond → 503 UO.</summary>
    public int? MaxRequests { get; init; }
    /// <summary>Requests a connection carries before it is closed (http.maxRequestsPerConnection); null: no limit.</summary>
    public int? MaxRequestsPerConnection { get; init; }
    /// <summary>Retries in flight to the cluster (http.maxRetries); beyond, a request is not retried.</summary>
    public int? MaxRetries { get; init; }
    /// <summary>tcp.connectTimeout; Istio's default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>http.idleTimeout: an idle pooled connection is closed after this; null keeps the proxy's default.</summary>
    public TimeSpan? IdleTimeout { get; init; }
    /// <summary>tcp.maxConnectionDuration: a connection is not reused after this; null: no limit.</summary>
    public TimeSpan? MaxConnectionDuration { get; init; }
    /// <summary>
    /// tcp.idleTimeout: a proxied TCP connection with no bytes either way for this long is closed; null: Istio's 1 h; zero: never.
    /// (TCP and TLS passthrough listeners only; HTTP keeps <see cref="IdleTimeout"/>.)
    /// </summary>
    public TimeSpan? TcpIdleTimeout { get; init; }
}

/// <summary>Passive outlier detection as Envoy does it, with the defaults Istio leaves to Envoy filled in.</summary>
public sealed record OutlierDetection
{
    /// <summary>Consecutive 5xx (connect failures and timeouts included) that eject an endpoint; 0 disables.</summary>
    public int Consecutive5xxErrors { get; init; } = 5;
    /// <summary>Consecutive 502/503/504 (connect failures and timeouts included) that eject an endpoint; 0 disables.</summary>
    public int ConsecutiveGatewayErrors { get; init; }
    /// <summary>How often ejections are reviewed (and ended).</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>An ejection lasts this times the number of times the endpoint was ejected (capped at 300 s).</summary>
    public TimeSpan BaseEjectionTime { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>No ejection while this share (0–100) of the cluster's endpoints is ejected already.</summary>
    public int MaxEjectionPercent { get; init; } = 10;
    /// <summary>Below this share (0–100) of healthy endpoints, ejections are ignored (panic); 0 disables panic.</summary>
    public int MinHealthPercent { get; init; }
}
