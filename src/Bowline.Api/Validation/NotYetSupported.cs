using Bowline.Api.Resources;

namespace Bowline.Api.Validation;

/// <summary>
/// Valid Istio fields that Bowline accepts but does not act on yet. Each is a warning, never an error, so that Istio's
/// published files still apply unchanged — and nobody is misled into thinking a policy is in force when it is not.
/// </summary>
internal static class NotYetSupported
{
    private const string Ignored = "not supported by Bowline yet; ignored";

    public static void Check(Resource resource, Reporter r)
    {
        switch (resource)
        {
            case VirtualService vs:
                VirtualService(vs.Spec, r);
                break;
            case DestinationRule dr:
                TrafficPolicy(dr.Spec.TrafficPolicy, "spec.trafficPolicy", r);
                for (var i = 0; i < dr.Spec.Subsets.Count; i++)
                {
                    TrafficPolicy(dr.Spec.Subsets[i].TrafficPolicy, $"spec.subsets[{i}].trafficPolicy", r);
                }
                break;
            case Gateway gateway:
                Gateway(gateway.Spec, r);
                break;
            case ServiceEntry se:
                ServiceEntry(se.Spec, r);
                break;
            case KubeConfigMap map when !MeshConfig.IsMeshConfigMap(map):
                r.Report("metadata.name", $"only the mesh config ConfigMap ({MeshConfig.ConfigMapNamespace}/{MeshConfig.ConfigMapName}) is read by Bowline; ignored");
                break;
            case EnvoyFilter filter:
                foreach (var (path, message) in EnvoyFilterRateLimits.Read(filter.Spec).Ignored)
                {
                    r.Report(path, message);
                }
                break;
        }
    }

    private static void VirtualService(VirtualServiceSpec spec, Reporter r)
    {
        for (var i = 0; i < spec.Http.Count; i++)
        {
            var route = spec.Http[i];
            var path = $"spec.http[{i}]";
            Warn(r, route.Delegate, $"{path}.delegate");
            Warn(r, route.Fault?.Delay?.ExponentialDelay, $"{path}.fault.delay.exponentialDelay");
            Warn(r, route.Fault?.Abort?.Http2Error, $"{path}.fault.abort.http2Error");
        }

        // tcp/tls routes are in force on gateways; sidecars reach services through HTTP_PROXY, which carries no raw TCP.
        var forSidecars = spec.Gateways.Count == 0 || spec.Gateways.Contains("mesh");
        if (spec.Tcp.Count > 0 && forSidecars)
        {
            r.Report("spec.tcp", $"TCP routes for sidecars (gateways: mesh) are {Ignored}: apps reach services through HTTP_PROXY, which carries no raw TCP; gateway-bound tcp routes are in force");
        }

        if (spec.Tls.Count > 0 && forSidecars)
        {
            r.Report("spec.tls", $"TLS routes for sidecars (gateways: mesh) are {Ignored}: apps reach services through HTTP_PROXY, which carries no raw TCP; gateway-bound tls routes are in force");
        }
    }

    private static void TrafficPolicy(TrafficPolicy? policy, string path, Reporter r)
    {
        if (policy is null)
        {
            return;
        }

        Settings(policy.LoadBalancer, policy.ConnectionPool, policy.OutlierDetection, policy.Tls, path, r);
        for (var i = 0; i < policy.PortLevelSettings.Count; i++)
        {
            var port = policy.PortLevelSettings[i];
            Settings(port.LoadBalancer, port.ConnectionPool, port.OutlierDetection, port.Tls, $"{path}.portLevelSettings[{i}]", r);
        }

        Warn(r, policy.Tunnel, $"{path}.tunnel");
        Warn(r, policy.ProxyProtocol, $"{path}.proxyProtocol");
    }

    private static void Settings(LoadBalancerSettings? lb, ConnectionPoolSettings? pool, OutlierDetection? outlier, ClientTLSSettings? tls, string path, Reporter r)
    {
        Warn(r, lb?.LocalityLbSetting, $"{path}.loadBalancer.localityLbSetting");
        Warn(r, lb?.WarmupDurationSecs, $"{path}.loadBalancer.warmupDurationSecs");
        if (lb?.Simple is SimpleLB.Passthrough)
        {
            r.Report($"{path}.loadBalancer.simple", "PASSTHROUGH has no original destination to pass to locally; Bowline balances round robin");
        }

        Warn(r, pool?.Tcp?.TcpKeepalive, $"{path}.connectionPool.tcp.tcpKeepalive");
        Warn(r, pool?.Http?.H2UpgradePolicy is null or H2UpgradePolicy.Default ? null : pool.Http.H2UpgradePolicy, $"{path}.connectionPool.http.h2UpgradePolicy");
        Warn(r, pool?.Http?.UseClientProtocol, $"{path}.connectionPool.http.useClientProtocol");
        Warn(r, pool?.Http?.MaxConcurrentStreams, $"{path}.connectionPool.http.maxConcurrentStreams");
        if (pool?.Http?.MaxRequestsPerConnection is > 1)
        {
            r.Report($"{path}.connectionPool.http.maxRequestsPerConnection",
                "only 1 (a connection per request) is enforced by Bowline yet; larger values are ignored");
        }

        Warn(r, outlier?.SplitExternalLocalOriginErrors, $"{path}.outlierDetection.splitExternalLocalOriginErrors");
        Warn(r, outlier?.ConsecutiveLocalOriginFailures, $"{path}.outlierDetection.consecutiveLocalOriginFailures");
        if (tls is { Mode: not (null or ClientTlsMode.Disable) })
        {
            r.Report($"{path}.tls", "TLS origination (including ISTIO_MUTUAL) is not supported by Bowline yet; traffic stays plaintext");
        }
    }

    private static void Gateway(GatewaySpec spec, Reporter r)
    {
        for (var i = 0; i < spec.Servers.Count; i++)
        {
            var protocol = spec.Servers[i].Port.Protocol.ToUpperInvariant();
            // TCP servers (MONGO/REDIS/MYSQL as opaque TCP) and TLS/HTTPS passthrough servers are served.
            if (protocol is "TCP" or "MONGO" or "REDIS" or "MYSQL"
                || (protocol is "TLS" or "HTTPS" && spec.Servers[i].Tls?.Mode == ServerTlsMode.Passthrough))
            {
                continue;
            }

            if (protocol is not ("HTTP" or "HTTP2" or "GRPC"))
            {
                r.Report($"spec.servers[{i}].port.protocol", $"{protocol} servers are {Ignored}");
            }
            else if (spec.Servers[i].Tls is not null)
            {
                r.Report($"spec.servers[{i}].tls", Ignored);
            }
        }
    }

    private static void ServiceEntry(ServiceEntrySpec spec, Reporter r)
    {
        for (var i = 0; i < spec.Ports.Count; i++)
        {
            var protocol = spec.Ports[i].Protocol.ToUpperInvariant();
            if (protocol is not ("HTTP" or "HTTP2" or "GRPC" or "GRPC-WEB"))
            {
                r.Report($"spec.ports[{i}].protocol", $"{protocol} ports of ServiceEntries are {Ignored}");
            }
        }

        if (spec.ExportTo.Count > 0 && !spec.ExportTo.Contains("*"))
        {
            r.Report("spec.exportTo", $"limiting visibility is {Ignored}: every namespace sees the entry");
        }

        if (spec.Addresses.Count > 0)
        {
            r.Report("spec.addresses", "virtual IPs are not routed by Bowline (HTTP is matched by Host); ignored");
        }
    }

    private static void Warn(Reporter r, object? field, string path)
    {
        if (field is not null)
        {
            r.Report(path, Ignored);
        }
    }
}
