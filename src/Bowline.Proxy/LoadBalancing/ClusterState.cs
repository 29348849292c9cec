using Bowline.Api.Xds;

namespace Bowline.Proxy.LoadBalancing;

/// <summary>
/// What one cluster (by name) keeps across config pushes: its counters, its endpoints (with their load and outlier
/// state) and its own connection pool when it has circuit-breaker settings. Touched at compile time only.
/// </summary>
internal sealed class ClusterState : IDisposable
{
    private readonly Lock _lock = new();
    private readonly List<HttpMessageInvoker> _retired = [];
    private UpstreamEndpoint[] _endpoints = [];
    private (ConnectionPool Pool, HttpMessageInvoker Client)? _client;

    public ClusterStats Stats { get; } = new();

    /// <summary>TCP connections open to the cluster, counted across configs so maxConnections holds through a push.</summary>
    public TcpConnectionCount TcpConnections { get; } = new();

    /// <summary>The cluster's endpoints for a new config: the previous objects where the endpoint is unchanged.</summary>
    public UpstreamEndpoint[] Endpoints(Cluster cluster)
    {
        lock (_lock)
        {
            var previous = _endpoints;
            var endpoints = new UpstreamEndpoint[cluster.Endpoints.Length];
            for (var i = 0; i < endpoints.Length; i++)
            {
                var e = cluster.Endpoints[i];
                endpoints[i] = Array.Find(previous, p => p.SameAs(e)) ?? new UpstreamEndpoint(e.Address, e.Port, e.Pod, e.Workload, cluster.Service);
            }

            _endpoints = endpoints;
            return endpoints;
        }
    }

    /// <summary>
    /// The cluster's own connection pool for these settings: kept while they stay the same, so a push does not drop
    /// connections. A replaced pool is disposed only with the proxy, as requests of the old config may still use it.
    /// </summary>
    public HttpMessageInvoker Client(ConnectionPool pool, Func<ConnectionPool, HttpMessageInvoker> create)
    {
        lock (_lock)
        {
            if (_client is { } current && current.Pool == pool)
            {
                return current.Client;
            }

            if (_client is { } old)
            {
                _retired.Add(old.Client);
            }

            var client = create(pool);
            _client = (pool, client);
            return client;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _client?.Client.Dispose();
            _client = null;
            foreach (var client in _retired)
            {
                client.Dispose();
            }

            _retired.Clear();
        }
    }
}
