using Bowline.Api.Xds;
using Bowline.Proxy.Telemetry.Metrics;
using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.LoadBalancing;

/// <summary>
/// A cluster ready for requests: its endpoints, its load balancer (round robin, least request, random or consistent
/// hash, the hash table built here), its circuit breakers and outlier detector. Picking is lock-free.
/// </summary>
internal sealed class CompiledCluster
{
    private readonly UpstreamEndpoint[] _endpoints;
    private readonly HostSet _allHosts;
    private readonly LoadBalancerPolicy _policy;
    private readonly ConsistentHashTable? _hashTable;
    private int _cursor = -1;

    /// <param name="state">The cluster's state kept across configs; fresh when null.</param>
    /// <param name="client">Its own connection pool (only when it has connectionPool settings).</param>
    public CompiledCluster(Cluster cluster, ClusterState? state = null, TimeProvider? time = null, HttpMessageInvoker? client = null)
    {
        Name = cluster.Name;
        Service = cluster.Service;
        MetricLabels = WorkloadLabels.Destination(null, cluster.Service);
        state ??= new ClusterState();
        Stats = state.Stats;
        HttpVersion = cluster.Protocol == UpstreamProtocol.Http2 ? System.Net.HttpVersion.Version20 : System.Net.HttpVersion.Version11;
        _endpoints = state.Endpoints(cluster);
        _allHosts = new HostSet(_endpoints, IgnoreEjections: true);
        Client = client;

        var lb = cluster.LoadBalancer;
        // PASSTHROUGH has no original destination on a local mesh: round robin.
        _policy = lb?.Policy == LoadBalancerPolicy.Passthrough ? LoadBalancerPolicy.RoundRobin : lb?.Policy ?? LoadBalancerPolicy.RoundRobin;
        if (lb?.ConsistentHash is { } hash)
        {
            Hash = new HashPolicy(hash);
            _hashTable = hash.Algorithm == ConsistentHashAlgorithm.Maglev
                ? new MaglevTable(_endpoints, hash.TableSize)
                : new RingHashTable(_endpoints, hash.MinimumRingSize);
        }

        TracksActiveRequests = _hashTable is null && _policy == LoadBalancerPolicy.LeastRequest;
        if (cluster.ConnectionPool is { } pool)
        {
            CircuitBreaker = new CircuitBreaker(pool, cluster.Protocol == UpstreamProtocol.Http2);
            // maxRequestsPerConnection 1 is exactly "close after each request"; HTTP/2 has no Connection header.
            CloseConnections = pool.MaxRequestsPerConnection == 1 && cluster.Protocol == UpstreamProtocol.Http1;
        }

        if (cluster.OutlierDetection is { } outlier)
        {
            Outlier = new OutlierDetector(outlier, _endpoints, Stats, time ?? TimeProvider.System);
        }
    }

    public string Name { get; }

    /// <summary>The service FQDN the cluster belongs to (destination_service), when it has one.</summary>
    public string? Service { get; }

    /// <summary>destination_* labels of a request that reached no endpoint of this cluster (workload unknown).</summary>
    public LabelPart MetricLabels { get; }

    public ClusterStats Stats { get; }

    /// <summary>The HTTP version spoken to every endpoint (HTTP/2 is prior-knowledge h2c).</summary>
    public Version HttpVersion { get; }

    /// <summary>The cluster's own connection pool; null uses the proxy's shared one.</summary>
    public HttpMessageInvoker? Client { get; }

    /// <summary>Where the request's hash key comes from; null unless the cluster balances by consistent hash.</summary>
    public HashPolicy? Hash { get; }

    /// <summary>Least request needs each endpoint's in-flight count; no other policy pays for counting.</summary>
    public bool TracksActiveRequests { get; }

    public CircuitBreaker? CircuitBreaker { get; }

    /// <summary>Send "Connection: close" on every request (maxRequestsPerConnection 1).</summary>
    public bool CloseConnections { get; }

    public OutlierDetector? Outlier { get; }

    /// <summary>Every endpoint, ejected or not (for tests and debugging).</summary>
    public IReadOnlyList<UpstreamEndpoint> Endpoints => _endpoints;

    /// <summary>Round robin without a request (kept for callers that have none).</summary>
    public UpstreamEndpoint? PickEndpoint() => PickEndpoint(null, SharedRandomSource.Instance);

    /// <summary>An endpoint for one try, or null when none is available (no endpoints, or all ejected).</summary>
    /// <param name="hash">The request's hash (<see cref="Hash"/>), when it has one.</param>
    public UpstreamEndpoint? PickEndpoint(ulong? hash, IRandomSource random)
    {
        var hosts = Outlier?.Hosts ?? _allHosts;
        if (_hashTable is not null)
        {
            // No key: a random pick among the available, as Envoy's hash balancers do.
            return hash is { } h ? _hashTable.Pick(h, _endpoints, hosts) : Random(hosts.Available, random);
        }

        var available = hosts.Available;
        return _policy switch
        {
            LoadBalancerPolicy.LeastRequest => LeastRequest(available, random),
            LoadBalancerPolicy.Random => Random(available, random),
            _ => RoundRobin(available),
        };
    }

    private UpstreamEndpoint? RoundRobin(UpstreamEndpoint[] available)
    {
        if (available.Length == 0)
        {
            return null;
        }

        // Unsigned so the cursor wrapping past int.MaxValue still yields a valid index.
        var next = (uint)Interlocked.Increment(ref _cursor);
        return available[next % (uint)available.Length];
    }

    private static UpstreamEndpoint? Random(UpstreamEndpoint[] available, IRandomSource random) =>
        available.Length == 0 ? null : available[available.Length == 1 ? 0 : random.Next(available.Length)];

    /// <summary>Power of two choices: two distinct random endpoints, the one with fewer requests in flight (the first on a tie).</summary>
    private static UpstreamEndpoint? LeastRequest(UpstreamEndpoint[] available, IRandomSource random)
    {
        if (available.Length <= 1)
        {
            return available.Length == 0 ? null : available[0];
        }

        var first = random.Next(available.Length);
        var second = random.Next(available.Length - 1);
        if (second >= first)
        {
            second++;
        }

        var a = available[first];
        var b = available[second];
        return b.ActiveRequests < a.ActiveRequests ? b : a;
    }
}
