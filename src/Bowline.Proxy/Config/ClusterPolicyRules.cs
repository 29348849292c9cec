using Bowline.Api.Xds;

namespace Bowline.Proxy.Config;

/// <summary>What the proxy refuses (NACKs) in a cluster's traffic policy: values it cannot act on as written.</summary>
internal static class ClusterPolicyRules
{
    // Envoy's bounds: ring sizes up to 8M entries, Maglev tables up to 5000011 entries (and prime).
    private const long MaxRingSize = 8 * 1024 * 1024;
    private const long MaxTableSize = 5_000_011;

    public static void Check(Cluster cluster)
    {
        var where = $"cluster {cluster.Name}";
        if (cluster.LoadBalancer?.ConsistentHash is { } hash)
        {
            var keys = (hash.HttpHeaderName is null ? 0 : 1) + (hash.HttpCookie is null ? 0 : 1)
                + (hash.HttpQueryParameterName is null ? 0 : 1) + (hash.UseSourceIp ? 1 : 0);
            if (keys != 1)
            {
                throw new ConfigException($"{where}: consistentHash needs exactly one of httpHeaderName, httpCookie, httpQueryParameterName, useSourceIp");
            }

            if (hash.HttpCookie is { } cookie && (string.IsNullOrEmpty(cookie.Name) || cookie.Ttl < TimeSpan.Zero))
            {
                throw new ConfigException($"{where}: httpCookie needs a name and a non-negative ttl");
            }

            if (hash.Algorithm == ConsistentHashAlgorithm.RingHash && hash.MinimumRingSize is < 1 or > MaxRingSize)
            {
                throw new ConfigException($"{where}: minimumRingSize must be 1–{MaxRingSize}");
            }

            if (hash.Algorithm == ConsistentHashAlgorithm.Maglev && (hash.TableSize is < 2 or > MaxTableSize || !IsPrime(hash.TableSize)))
            {
                throw new ConfigException($"{where}: maglev tableSize must be a prime up to {MaxTableSize}");
            }
        }

        if (cluster.ConnectionPool is { } pool
            && (pool.MaxConnections < 1 || pool.MaxPendingRequests < 1 || pool.MaxRequests < 1 || pool.MaxRequestsPerConnection < 1
                || pool.MaxRetries < 0 || pool.ConnectTimeout <= TimeSpan.Zero || pool.IdleTimeout <= TimeSpan.Zero
                || pool.MaxConnectionDuration <= TimeSpan.Zero || pool.TcpIdleTimeout < TimeSpan.Zero))
        {
            throw new ConfigException($"{where}: connectionPool limits must be positive");
        }

        if (cluster.OutlierDetection is { } outlier
            && (outlier.Consecutive5xxErrors < 0 || outlier.ConsecutiveGatewayErrors < 0 || outlier.Interval <= TimeSpan.Zero
                || outlier.BaseEjectionTime <= TimeSpan.Zero || outlier.MaxEjectionPercent is < 0 or > 100 || outlier.MinHealthPercent is < 0 or > 100))
        {
            throw new ConfigException($"{where}: bad outlierDetection (negative threshold, non-positive interval or ejection time, or a percentage outside 0–100)");
        }
    }

    private static bool IsPrime(long n)
    {
        if (n % 2 == 0)
        {
            return n == 2;
        }

        for (long d = 3; d * d <= n; d += 2)
        {
            if (n % d == 0)
            {
                return false;
            }
        }

        return true;
    }
}
