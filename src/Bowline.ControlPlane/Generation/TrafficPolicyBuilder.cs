using Bowline.Api.Resources;
using Bowline.Api.Xds;
using ROutlierDetection = Bowline.Api.Resources.OutlierDetection;
using XOutlierDetection = Bowline.Api.Xds.OutlierDetection;

namespace Bowline.ControlPlane.Generation;

/// <summary>
/// Translates a cluster's effective DestinationRule policy into the pushed records, filling in the defaults Istio
/// leaves to Envoy, so the proxy holds no policy defaults of its own.
/// </summary>
internal static class TrafficPolicyBuilder
{
    // Envoy takes ring sizes up to 8M entries; larger asks would only cost the proxy memory.
    private const long MaxRingSize = 8 * 1024 * 1024;

    public static Cluster Apply(Cluster cluster, EffectiveTrafficPolicy policy) => cluster with
    {
        LoadBalancer = LoadBalancer(policy.LoadBalancer),
        ConnectionPool = ConnectionPool(policy.ConnectionPool),
        OutlierDetection = OutlierDetection(policy.OutlierDetection),
    };

    private static LoadBalancer? LoadBalancer(LoadBalancerSettings? lb)
    {
        if (lb?.ConsistentHash is { } hash && Hash(hash) is { } consistent)
        {
            return new LoadBalancer { ConsistentHash = consistent };
        }

        var policy = lb?.Simple switch
        {
            // LEAST_CONN is Istio's deprecated name for LEAST_REQUEST.
            SimpleLB.LeastRequest or SimpleLB.LeastConn => LoadBalancerPolicy.LeastRequest,
            SimpleLB.Random => LoadBalancerPolicy.Random,
            SimpleLB.Passthrough => LoadBalancerPolicy.Passthrough,
            _ => LoadBalancerPolicy.RoundRobin,
        };

        // Round robin is the proxy's behaviour without a policy: sending none keeps such configs (and versions) as before.
        return policy == LoadBalancerPolicy.RoundRobin ? null : new LoadBalancer { Policy = policy };
    }

    private static ConsistentHash? Hash(ConsistentHashLB hash)
    {
        var result = hash switch
        {
            { HttpHeaderName: { Length: > 0 } header } => new ConsistentHash { HttpHeaderName = header.ToLowerInvariant() },
            { HttpCookie: { Name.Length: > 0 } cookie } => new ConsistentHash
            {
                HttpCookie = new HashCookie { Name = cookie.Name, Path = cookie.Path, Ttl = cookie.Ttl },
            },
            { HttpQueryParameterName: { Length: > 0 } query } => new ConsistentHash { HttpQueryParameterName = query },
            { UseSourceIp: true } => new ConsistentHash { UseSourceIp = true },
            _ => null,
        };
        if (result is null)
        {
            return null;
        }

        if (hash.Maglev is { } maglev)
        {
            return result with { Algorithm = ConsistentHashAlgorithm.Maglev, TableSize = maglev.TableSize is > 0 and var size ? size : 65537 };
        }

        // ringHash.minimumRingSize wins over the deprecated top-level minimumRingSize; 0 means Envoy's default.
        var ring = hash.RingHash?.MinimumRingSize is > 0 and var r ? r : hash.MinimumRingSize is > 0 and var m ? m : 1024;
        return result with { MinimumRingSize = Math.Min(ring, MaxRingSize) };
    }

    private static ConnectionPool? ConnectionPool(ConnectionPoolSettings? pool)
    {
        if (pool is null)
        {
            return null;
        }

        var tcp = pool.Tcp;
        var http = pool.Http;
        return new ConnectionPool
        {
            MaxConnections = Limit(tcp?.MaxConnections),
            MaxPendingRequests = Limit(http?.Http1MaxPendingRequests),
            MaxRequests = Limit(http?.Http2MaxRequests),
            MaxRequestsPerConnection = Limit(http?.MaxRequestsPerConnection),
            MaxRetries = Limit(http?.MaxRetries),
            ConnectTimeout = tcp?.ConnectTimeout is { } connect && connect > TimeSpan.Zero ? connect : TimeSpan.FromSeconds(10),
            IdleTimeout = http?.IdleTimeout is { } idle && idle > TimeSpan.Zero ? idle : null,
            MaxConnectionDuration = tcp?.MaxConnectionDuration is { } duration && duration > TimeSpan.Zero ? duration : null,
            // Unset keeps Istio's 1 h in the proxy (validation, as Istio's, wants at least 1ms).
            TcpIdleTimeout = tcp?.IdleTimeout is { } tcpIdle && tcpIdle > TimeSpan.Zero ? tcpIdle : null,
        };
    }

    // Istio: 0 (or unset) means its default, which for every limit is 2^32-1 — unlimited in practice.
    private static int? Limit(int? value) => value is > 0 ? value : null;

    private static XOutlierDetection? OutlierDetection(ROutlierDetection? outlier)
    {
        if (outlier is null)
        {
            return null;
        }

        // Istio: the deprecated consecutiveErrors counts gateway errors only and turns the 5xx rule off; the explicit
        // fields win over it. With none of them, Envoy's default applies: 5 consecutive 5xx, gateway rule off.
        var consecutive5xx = 5;
        var gateway = 0;
        if (outlier.ConsecutiveErrors is > 0 and var legacy)
        {
            consecutive5xx = 0;
            gateway = legacy;
        }

        consecutive5xx = outlier.Consecutive5xxErrors ?? consecutive5xx;
        gateway = outlier.ConsecutiveGatewayErrors ?? gateway;
        return new XOutlierDetection
        {
            Consecutive5xxErrors = consecutive5xx,
            ConsecutiveGatewayErrors = gateway,
            Interval = outlier.Interval is { } interval && interval > TimeSpan.Zero ? interval : TimeSpan.FromSeconds(10),
            BaseEjectionTime = outlier.BaseEjectionTime is { } ejection && ejection > TimeSpan.Zero ? ejection : TimeSpan.FromSeconds(30),
            MaxEjectionPercent = outlier.MaxEjectionPercent is > 0 and var max ? max : 10,
            MinHealthPercent = outlier.MinHealthPercent ?? 0,
        };
    }
}
