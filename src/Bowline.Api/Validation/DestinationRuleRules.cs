using Bowline.Api.Resources;

namespace Bowline.Api.Validation;

/// <summary>DestinationRule checks, after Istio's validateDestinationRule.</summary>
internal static class DestinationRuleRules
{
    public static void Check(DestinationRuleSpec spec, Reporter r)
    {
        Checks.Required(r, "spec.host", spec.Host);
        HostRules.Check(r, "spec.host", spec.Host);
        TrafficPolicy(spec.TrafficPolicy, "spec.trafficPolicy", r);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < spec.Subsets.Count; i++)
        {
            var path = $"spec.subsets[{i}]";
            var name = spec.Subsets[i].Name;
            if (name.Length == 0)
            {
                r.Report($"{path}.name", "required field is missing");
            }
            else if (!NameRules.IsDns1123Label(name))
            {
                r.Report($"{path}.name", $"\"{name}\" is not a valid subset name (a DNS-1123 label)");
            }
            else if (!names.Add(name))
            {
                r.Report($"{path}.name", $"duplicate subset \"{name}\"");
            }
            // Empty labels are allowed: Istio reads them as "every endpoint of the host".
            TrafficPolicy(spec.Subsets[i].TrafficPolicy, $"{path}.trafficPolicy", r);
        }
    }

    private static void TrafficPolicy(TrafficPolicy? policy, string path, Reporter r)
    {
        if (policy is null)
        {
            return;
        }
        Settings(policy.ConnectionPool, policy.OutlierDetection, policy.Tls, path, r);
        LoadBalancer(policy.LoadBalancer, path, r);
        for (var i = 0; i < policy.PortLevelSettings.Count; i++)
        {
            var port = policy.PortLevelSettings[i];
            var portPath = $"{path}.portLevelSettings[{i}]";
            if (port.Port is null)
            {
                r.Report(portPath, "port is required");
            }
            Checks.Port(r, $"{portPath}.port.number", port.Port?.Number);
            Settings(port.ConnectionPool, port.OutlierDetection, port.Tls, portPath, r);
            LoadBalancer(port.LoadBalancer, portPath, r);
        }
    }

    /// <summary>Istio: one hash key, and a Maglev table size that is prime (Envoy refuses other sizes).</summary>
    private static void LoadBalancer(LoadBalancerSettings? lb, string path, Reporter r)
    {
        if (lb?.ConsistentHash is not { } hash)
        {
            return;
        }

        var hashPath = $"{path}.loadBalancer.consistentHash";
        if (lb.Simple is not (null or SimpleLB.Unspecified))
        {
            r.Report($"{path}.loadBalancer", "only one of simple and consistentHash may be set");
        }

        var keys = (string.IsNullOrEmpty(hash.HttpHeaderName) ? 0 : 1) + (hash.HttpCookie is null ? 0 : 1)
            + (string.IsNullOrEmpty(hash.HttpQueryParameterName) ? 0 : 1) + (hash.UseSourceIp == true ? 1 : 0);
        if (keys != 1)
        {
            r.Report(hashPath, "exactly one of httpHeaderName, httpCookie, httpQueryParameterName, useSourceIp is required");
        }

        if (hash.HttpCookie is { } cookie && cookie.Name.Length == 0)
        {
            r.Report($"{hashPath}.httpCookie.name", "required field is missing");
        }

        if (hash.Maglev is not null && hash.RingHash is not null)
        {
            r.Report(hashPath, "only one of ringHash and maglev may be set");
        }

        if (hash.Maglev?.TableSize is { } size && size != 0 && (size > 5_000_011 || !IsPrime(size)))
        {
            r.Report($"{hashPath}.maglev.tableSize", $"must be a prime number up to 5000011, got {size}");
        }
    }

    private static bool IsPrime(long n)
    {
        if (n < 2 || (n % 2 == 0 && n != 2))
        {
            return false;
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

    private static void Settings(ConnectionPoolSettings? pool, OutlierDetection? outlier, ClientTLSSettings? tls, string path, Reporter r)
    {
        if (pool?.Tcp is { } tcp)
        {
            Checks.NonNegative(r, $"{path}.connectionPool.tcp.maxConnections", tcp.MaxConnections);
            Checks.Duration(r, $"{path}.connectionPool.tcp.connectTimeout", tcp.ConnectTimeout);
            Checks.Duration(r, $"{path}.connectionPool.tcp.idleTimeout", tcp.IdleTimeout);
            Checks.Duration(r, $"{path}.connectionPool.tcp.maxConnectionDuration", tcp.MaxConnectionDuration);
            Checks.NonNegative(r, $"{path}.connectionPool.tcp.tcpKeepalive.probes", tcp.TcpKeepalive?.Probes);
        }
        if (pool?.Http is { } http)
        {
            var httpPath = $"{path}.connectionPool.http";
            Checks.NonNegative(r, $"{httpPath}.http1MaxPendingRequests", http.Http1MaxPendingRequests);
            Checks.NonNegative(r, $"{httpPath}.http2MaxRequests", http.Http2MaxRequests);
            Checks.NonNegative(r, $"{httpPath}.maxRequestsPerConnection", http.MaxRequestsPerConnection);
            Checks.NonNegative(r, $"{httpPath}.maxRetries", http.MaxRetries);
            Checks.NonNegative(r, $"{httpPath}.maxConcurrentStreams", http.MaxConcurrentStreams);
            Checks.Duration(r, $"{httpPath}.idleTimeout", http.IdleTimeout);
        }
        if (outlier is not null)
        {
            var o = $"{path}.outlierDetection";
            Checks.NonNegative(r, $"{o}.consecutiveErrors", outlier.ConsecutiveErrors);
            Checks.NonNegative(r, $"{o}.consecutive5xxErrors", outlier.Consecutive5xxErrors);
            Checks.NonNegative(r, $"{o}.consecutiveGatewayErrors", outlier.ConsecutiveGatewayErrors);
            Checks.NonNegative(r, $"{o}.consecutiveLocalOriginFailures", outlier.ConsecutiveLocalOriginFailures);
            Checks.Duration(r, $"{o}.interval", outlier.Interval);
            Checks.Duration(r, $"{o}.baseEjectionTime", outlier.BaseEjectionTime);
            Checks.Percentage(r, $"{o}.maxEjectionPercent", outlier.MaxEjectionPercent);
            Checks.Percentage(r, $"{o}.minHealthPercent", outlier.MinHealthPercent);
        }
        // MUTUAL needs a client certificate unless it comes from a secret (credentialName).
        if (tls is { Mode: ClientTlsMode.Mutual, CredentialName: null } && (tls.ClientCertificate is null || tls.PrivateKey is null))
        {
            r.Report($"{path}.tls", "MUTUAL TLS requires clientCertificate and privateKey (or credentialName)");
        }
    }
}
