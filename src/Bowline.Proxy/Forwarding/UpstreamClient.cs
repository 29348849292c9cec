using Bowline.Api.Xds;

namespace Bowline.Proxy.Forwarding;

/// <summary>
/// Upstream connection pools: one shared by every cluster without connectionPool settings (keep-alive connections
/// shared by all listeners and configs), and one per cluster that has them, so its limits and timeouts are its own.
/// </summary>
internal static class UpstreamClient
{
    /// <summary>Istio's default connect timeout (meshConfig connectTimeout).</summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(10);

    // Shorter than Istio's 1 h: local apps (Kestrel) close idle keep-alive connections after 130 s.
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromSeconds(60);

    public static HttpMessageInvoker Create() => new(Handler(), disposeHandler: true);

    /// <summary>
    /// A cluster's own pool. tcp.maxConnections becomes MaxConnectionsPerServer, which SocketsHttpHandler applies per
    /// endpoint: exact for a one-endpoint cluster; across several, the cluster's circuit breaker still caps requests in
    /// flight at maxConnections + http1MaxPendingRequests.
    /// </summary>
    public static HttpMessageInvoker Create(ConnectionPool pool)
    {
        var handler = Handler();
        handler.ConnectTimeout = pool.ConnectTimeout;
        handler.PooledConnectionIdleTimeout = pool.IdleTimeout ?? DefaultIdleTimeout;
        if (pool.MaxConnectionDuration is { } lifetime)
        {
            handler.PooledConnectionLifetime = lifetime;
        }

        if (pool.MaxConnections is { } max)
        {
            handler.MaxConnectionsPerServer = max;
        }

        return new HttpMessageInvoker(handler, disposeHandler: true);
    }

    private static SocketsHttpHandler Handler() => new()
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        UseCookies = false,
        AutomaticDecompression = System.Net.DecompressionMethods.None,
        ConnectTimeout = DefaultConnectTimeout,
        PooledConnectionIdleTimeout = DefaultIdleTimeout,
        EnableMultipleHttp2Connections = true,
        // traceparent and x-b3-* pass through untouched: the proxy is no tracing participant of its own.
        ActivityHeadersPropagator = null,
    };
}
