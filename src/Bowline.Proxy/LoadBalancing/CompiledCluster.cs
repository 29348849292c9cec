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
    // Round robin over endpoints of unequal weights (ServiceEntry endpoint weight): each endpoint appears weight times,
    // interleaved; null when all weights are equal.
    private readonly UpstreamEndpoint[]? _weightedSchedule;
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
        Subset = cluster.Subset;
        ConnectTimeout = cluster.ConnectionPool?.ConnectTimeout;
        TcpIdleTimeout = cluster.ConnectionPool?.TcpIdleTimeout;
        TcpConnections = new TcpConnectionLimit(state.TcpConnections, cluster.ConnectionPool?.MaxConnections);
        HttpVersion = cluster.Protocol == UpstreamProtocol.Http2 ? System.Net.HttpVersion.Version20 : System.Net.HttpVersion.Version11;
        _endpoints = state.Endpoints(cluster);
        _allHosts = new HostSet(_endpoints, IgnoreEjections: true);
        Client = client;
        OriginalDestination = cluster.Type == ClusterType.OriginalDestination;
        _weightedSchedule = WeightedSchedule(_endpoints, cluster.Endpoints);

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

        // An original-destination cluster has no endpoints of its own to hash over or eject.
        if (cluster.OutlierDetection is { } outlier && !OriginalDestination)
        {
            Outlier = new OutlierDetector(outlier, _endpoints, Stats, time ?? TimeProvider.System);
        }
    }

    public string Name { get; }

    /// <summary>Envoy's ORIGINAL_DST: every request goes to the host:port it names (<see cref="Forwarding.OriginalDestination"/>).</summary>
    public bool OriginalDestination { get; }

    /// <summary>destination_* labels of a request that reached no endpoint of this cluster (workload unknown).</summary>
    public LabelPart MetricLabels { get; }

    public ClusterStats Stats { get; }

    /// <summary>The service FQDN (destination_service) and subset the cluster stands for, when it has them.</summary>
    public string? Service { get; }
    public string? Subset { get; }

    /// <summary>tcp.connectTimeout when the cluster has a connectionPool; null: the proxy's default.</summary>
    public TimeSpan? ConnectTimeout { get; }

    /// <summary>tcp.idleTimeout for proxied TCP connections; null: Istio's 1 h; zero: none.</summary>
    public TimeSpan? TcpIdleTimeout { get; }

    /// <summary>TCP connections (TCP / TLS passthrough listeners) against tcp.maxConnections.</summary>
    public TcpConnectionLimit TcpConnections { get; }

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
        // Weights hold while every endpoint is available; with some ejected, plain round robin over the rest.
        return _weightedSchedule is { } schedule && available.Length == _endpoints.Length
            ? schedule[next % (uint)schedule.Length]
            : available[next % (uint)available.Length];
    }

    /// <summary>
    /// Smooth weighted round robin (nginx's): each step adds every endpoint's weight to its credit and picks the
    /// highest, which then pays the total — so weights 2:1 give a, b, a rather than a, a, b. Weights are divided by
    /// their greatest common divisor, and the schedule is capped at 10 000 steps (larger ratios are scaled down).
    /// </summary>
    private static UpstreamEndpoint[]? WeightedSchedule(UpstreamEndpoint[] endpoints, System.Collections.Immutable.ImmutableArray<Api.Xds.Endpoint> config)
    {
        if (endpoints.Length < 2 || config.All(e => (e.Weight ?? 1) == (config[0].Weight ?? 1)))
        {
            return null;
        }

        var weights = config.Select(e => (long)Math.Max(e.Weight ?? 1, 0)).ToArray();
        var gcd = weights.Where(w => w > 0).Aggregate(0L, Gcd);
        if (gcd == 0)
        {
            return null;
        }

        var total = weights.Sum() / gcd;
        var scale = total > 10_000 ? 10_000.0 / total : 1.0;
        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] = weights[i] == 0 ? 0 : Math.Max(1, (long)(weights[i] / gcd * scale));
        }

        var steps = weights.Sum();
        var credit = new long[weights.Length];
        var schedule = new UpstreamEndpoint[steps];
        for (var step = 0; step < steps; step++)
        {
            var best = 0;
            for (var i = 0; i < weights.Length; i++)
            {
                credit[i] += weights[i];
                if (credit[i] > credit[best])
                {
                    best = i;
                }
            }

            credit[best] -= steps;
            schedule[step] = endpoints[best];
        }

        return schedule;
    }

    private static long Gcd(long a, long b) => b == 0 ? a : Gcd(b, a % b);

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
