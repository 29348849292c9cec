using Bowline.Api.Xds;

namespace Bowline.Proxy.LoadBalancing;

/// <summary>A cluster ready for requests: its endpoints and a lock-free round-robin cursor.</summary>
internal sealed class CompiledCluster
{
    private readonly UpstreamEndpoint[] _endpoints;
    private int _cursor = -1;

    /// <param name="stats">The cluster's counters, kept across configs; fresh ones when null.</param>
    public CompiledCluster(Cluster cluster, ClusterStats? stats = null)
    {
        Name = cluster.Name;
        Stats = stats ?? new ClusterStats();
        HttpVersion = cluster.Protocol == UpstreamProtocol.Http2 ? System.Net.HttpVersion.Version20 : System.Net.HttpVersion.Version11;
        _endpoints = new UpstreamEndpoint[cluster.Endpoints.Length];
        for (var i = 0; i < _endpoints.Length; i++)
        {
            var e = cluster.Endpoints[i];
            _endpoints[i] = new UpstreamEndpoint(e.Address, e.Port, e.Pod);
        }
    }

    public string Name { get; }

    public ClusterStats Stats { get; }

    /// <summary>The HTTP version spoken to every endpoint (HTTP/2 is prior-knowledge h2c).</summary>
    public Version HttpVersion { get; }

    /// <summary>The next endpoint in round-robin order, or null when the cluster has none.</summary>
    public UpstreamEndpoint? PickEndpoint()
    {
        var endpoints = _endpoints;
        if (endpoints.Length == 0)
        {
            return null;
        }

        // Unsigned so the cursor wrapping past int.MaxValue still yields a valid index.
        var next = (uint)Interlocked.Increment(ref _cursor);
        return endpoints[next % (uint)endpoints.Length];
    }
}
