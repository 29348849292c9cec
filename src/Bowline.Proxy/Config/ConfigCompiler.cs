using System.Globalization;
using System.Net;
using Bowline.Api.Xds;
using Bowline.Proxy.Forwarding;
using Bowline.Proxy.Listeners.Tcp;
using Bowline.Proxy.Listeners.Tls;
using Bowline.Proxy.LoadBalancing;
using Bowline.Proxy.RateLimit;
using Bowline.Proxy.Routing;
using Bowline.Proxy.Telemetry.Metrics;
using Route = Bowline.Api.Xds.Route;

namespace Bowline.Proxy.Config;

/// <summary>Validates a pushed config as a whole and compiles it (regexes, lookups); any inconsistency rejects it all.</summary>
internal static class ConfigCompiler
{
    /// <exception cref="ConfigException">The config is inconsistent; the message says where.</exception>
    /// <param name="stats">Per-cluster state (counters, endpoints, connection pools) kept across configs; fresh when null.</param>
    /// <param name="time">Clock of the outlier detectors' sweeps and rate limit fills (the system clock unless a test fakes it).</param>
    /// <param name="buckets">Rate limit token buckets kept across configs; fresh when null.</param>
    public static CompiledConfig Compile(ProxyConfig config, ClusterStatsRegistry? stats = null, TimeProvider? time = null, RateLimitBuckets? buckets = null)
    {
        Telemetry.TelemetryValidation.Check(config.Telemetry);
        buckets ??= new RateLimitBuckets(time ?? TimeProvider.System);
        var usedBuckets = new HashSet<TokenBucket>();
        var clusters = new Dictionary<string, CompiledCluster>(StringComparer.Ordinal);
        foreach (var cluster in config.Clusters)
        {
            foreach (var endpoint in cluster.Endpoints)
            {
                if (endpoint.Port is <= 0 or > 65535 || string.IsNullOrEmpty(endpoint.Address))
                {
                    throw new ConfigException($"cluster {cluster.Name}: bad endpoint {endpoint.Address}:{endpoint.Port}");
                }

                if (endpoint.Weight is < 0)
                {
                    throw new ConfigException($"cluster {cluster.Name}: negative weight for endpoint {endpoint.Address}:{endpoint.Port}");
                }
            }

            if (cluster.Type == ClusterType.OriginalDestination && cluster.Endpoints.Length > 0)
            {
                throw new ConfigException($"cluster {cluster.Name}: an original-destination cluster has no endpoints");
            }

            if (clusters.ContainsKey(cluster.Name))
            {
                throw new ConfigException($"duplicate cluster {cluster.Name}");
            }

            ClusterPolicyRules.Check(cluster);
            var state = stats?.State(cluster.Name) ?? new ClusterState();
            var client = PoolFor(cluster) is { } pool ? state.Client(pool, UpstreamClient.Create) : null;
            if (!clusters.TryAdd(cluster.Name, new CompiledCluster(cluster, state, time, client)))
            {
                throw new ConfigException($"duplicate cluster {cluster.Name}");
            }
        }

        var tables = new Dictionary<string, CompiledRouteTable>(StringComparer.Ordinal);
        foreach (var table in config.RouteTables)
        {
            if (!tables.TryAdd(table.Name, CompileTable(table, clusters, Bucket)))
            {
                throw new ConfigException($"duplicate route table {table.Name}");
            }
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        var endpoints = new HashSet<IPEndPoint>();
        var listeners = new List<CompiledListener>(config.Listeners.Length);
        foreach (var listener in config.Listeners)
        {
            var where = $"listener {listener.Name}";
            if (string.IsNullOrEmpty(listener.Name) || !names.Add(listener.Name))
            {
                throw new ConfigException($"duplicate or empty listener name '{listener.Name}'");
            }

            if (!IPAddress.TryParse(listener.Address, out var address) || listener.Port is < 0 or > 65535)
            {
                throw new ConfigException($"{where}: bad address {listener.Address}:{listener.Port}");
            }

            // Port 0 asks the OS for a free port, so two of them never collide.
            if (listener.Port != 0 && !endpoints.Add(new IPEndPoint(address, listener.Port)))
            {
                throw new ConfigException($"{where}: duplicate address {listener.Address}:{listener.Port}");
            }

            if (listener.Protocol is ListenerProtocol.Tcp or ListenerProtocol.Tls)
            {
                listeners.Add(TcpListenerCompiler.Compile(listener, address, where, clusters));
                continue;
            }

            if (listener.Protocol is { } protocol && protocol != ListenerProtocol.Http)
            {
                throw new ConfigException($"{where}: unknown protocol {protocol}");
            }

            CompiledRouteTable? table = null;
            CompiledCluster? cluster = null;
            if (listener.Kind == ListenerKind.Inbound)
            {
                if (listener.Cluster is null || !clusters.TryGetValue(listener.Cluster, out cluster))
                {
                    throw new ConfigException($"{where}: unknown cluster '{listener.Cluster}'");
                }
            }
            else if (listener.RouteTable is null || !tables.TryGetValue(listener.RouteTable, out table))
            {
                throw new ConfigException($"{where}: unknown route table '{listener.RouteTable}'");
            }

            var tls = listener.Tls is null ? null : TlsCompiler.Compile(listener.Tls, where);
            listeners.Add(new CompiledListener(listener.Name, listener.Kind, address, listener.Port, table, cluster, tls)
            {
                RateLimit = Bucket(listener.RateLimit, $"listener|{listener.Name}", where),
                Telemetry = ListenerTelemetry.For(listener, cluster),
            });
        }

        return new CompiledConfig(config, listeners, [.. clusters.Values]) { RateLimits = usedBuckets };

        TokenBucket? Bucket(LocalRateLimit? limit, string scope, string where)
        {
            if (limit is null)
            {
                return null;
            }

            RateLimitBuckets.Check(limit, where);
            var bucket = buckets.Get(scope, limit);
            usedBuckets.Add(bucket);
            return bucket;
        }
    }

    /// <summary>Envoy's default dns_refresh_rate: how long a connection to a resolved name may be reused.</summary>
    internal static readonly TimeSpan DnsRefresh = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The cluster's own pool settings, if it needs its own pool: its connectionPool, and for endpoints named by DNS
    /// (ServiceEntry resolution DNS) a connection lifetime of <see cref="DnsRefresh"/> — each new connection resolves
    /// the name again, so a changed address is picked up within that time, as Envoy re-resolves and drains.
    /// </summary>
    private static ConnectionPool? PoolFor(Cluster cluster)
    {
        var named = cluster.Endpoints.Any(e => !IPAddress.TryParse(e.Address, out _));
        return (cluster.ConnectionPool, named) switch
        {
            ({ } pool, true) => pool with { MaxConnectionDuration = pool.MaxConnectionDuration is { } d && d < DnsRefresh ? d : DnsRefresh },
            ({ } pool, false) => pool,
            (null, true) => new ConnectionPool { MaxConnectionDuration = DnsRefresh },
            _ => null,
        };
    }

    private static CompiledRouteTable CompileTable(RouteTable table, Dictionary<string, CompiledCluster> clusters, Func<LocalRateLimit?, string, string, TokenBucket?> bucket)
    {
        var hosts = new CompiledVirtualHost[table.VirtualHosts.Length];
        var domains = new IReadOnlyList<string>[hosts.Length];
        for (var h = 0; h < hosts.Length; h++)
        {
            var host = table.VirtualHosts[h];
            var routes = new CompiledRoute[host.Routes.Length];
            for (var r = 0; r < routes.Length; r++)
            {
                var route = host.Routes[r];
                var where = $"route table {table.Name} host {host.Name} route {route.Name ?? r.ToString(CultureInfo.InvariantCulture)}";
                routes[r] = CompileRoute(route, where, clusters, bucket(route.RateLimit, $"route|{table.Name}|{host.Name}|{r}|{route.Name}", where));
            }

            hosts[h] = new CompiledVirtualHost(host.Name, routes);
            domains[h] = host.Domains;
        }

        return new CompiledRouteTable(table.Name, hosts, domains);
    }

    private static CompiledRoute CompileRoute(Route route, string where, Dictionary<string, CompiledCluster> clusters, TokenBucket? rateLimit)
    {
        var actions = (route.Destinations.IsDefaultOrEmpty ? 0 : 1) + (route.Redirect is null ? 0 : 1) + (route.DirectResponse is null ? 0 : 1);
        if (actions != 1)
        {
            throw new ConfigException($"{where}: a route needs exactly one of destinations, redirect, directResponse");
        }

        if (route.Timeout is { } timeout && timeout < TimeSpan.Zero)
        {
            throw new ConfigException($"{where}: negative timeout");
        }

        var matches = new CompiledRouteMatch[route.Matches.Length];
        for (var i = 0; i < matches.Length; i++)
        {
            matches[i] = new CompiledRouteMatch(route.Matches[i], $"{where} match {i}");
        }

        var (picker, destinationHeaders) = route.Destinations.IsDefaultOrEmpty ? (null, []) : CompileDestinations(route, where, clusters);

        // A zero timeout means "none", as in Envoy.
        var effectiveTimeout = route.Timeout is { } t && t > TimeSpan.Zero ? t : (TimeSpan?)null;
        return new CompiledRoute(route.Name, matches, picker, effectiveTimeout,
            CompiledRetryPolicy.Compile(route.Retries, where), CompiledFault.Compile(route.Fault, where))
        {
            DestinationHeaders = destinationHeaders,
            Redirect = CompiledRedirect.Compile(route.Redirect, where),
            DirectResponse = CompiledDirectResponse.Compile(route.DirectResponse, where),
            Rewrite = CompiledRewrite.Compile(route.Rewrite, route.Matches, where),
            Headers = CompiledHeaderPolicy.Compile(route.Headers, where),
            Cors = CompiledCors.Compile(route.Cors, where),
            Mirrors = CompileMirrors(route, where, clusters),
            RateLimit = rateLimit,
        };
    }

    private static CompiledMirror[] CompileMirrors(Route route, string where, Dictionary<string, CompiledCluster> clusters)
    {
        if (route.Mirrors.IsDefaultOrEmpty)
        {
            return [];
        }

        if (route.Destinations.IsDefaultOrEmpty)
        {
            // A redirect or direct response never reaches an upstream, so there is no request to copy.
            throw new ConfigException($"{where}: mirrors need a route with destinations");
        }

        var mirrors = new CompiledMirror[route.Mirrors.Length];
        for (var i = 0; i < mirrors.Length; i++)
        {
            var mirror = route.Mirrors[i];
            if (!clusters.TryGetValue(mirror.Cluster, out var cluster))
            {
                throw new ConfigException($"{where}: unknown mirror cluster '{mirror.Cluster}'");
            }

            mirrors[i] = CompiledMirror.Compile(cluster, mirror.Percentage, $"{where} mirror {mirror.Cluster}");
        }

        return mirrors;
    }

    private static (WeightedClusterPicker, CompiledHeaderPolicy?[]) CompileDestinations(Route route, string where, Dictionary<string, CompiledCluster> clusters)
    {
        var destinations = new List<(CompiledCluster, int)>(route.Destinations.Length);
        var headers = new CompiledHeaderPolicy?[route.Destinations.Length];
        var total = 0;
        foreach (var destination in route.Destinations)
        {
            if (!clusters.TryGetValue(destination.Cluster, out var cluster))
            {
                throw new ConfigException($"{where}: unknown cluster '{destination.Cluster}'");
            }

            if (destination.Weight < 0)
            {
                throw new ConfigException($"{where}: negative weight for cluster '{destination.Cluster}'");
            }

            headers[destinations.Count] = CompiledHeaderPolicy.Compile(destination.Headers, $"{where} destination {destination.Cluster}");
            total += destination.Weight;
            destinations.Add((cluster, destination.Weight));
        }

        if (total <= 0 && destinations.Count > 1)
        {
            throw new ConfigException($"{where}: weights sum to 0");
        }

        // No destination with header edits (the common case): an empty array, so the request path skips the lookup.
        return (new WeightedClusterPicker(destinations), headers.Any(h => h is not null) ? headers : []);
    }
}
