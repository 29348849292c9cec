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
        }
    }

    private static void VirtualService(VirtualServiceSpec spec, Reporter r)
    {
        for (var i = 0; i < spec.Http.Count; i++)
        {
            var route = spec.Http[i];
            var path = $"spec.http[{i}]";
            Warn(r, route.Delegate, $"{path}.delegate");
            Warn(r, route.Mirror, $"{path}.mirror");
            Warn(r, route.Mirrors.Count > 0 ? route.Mirrors : null, $"{path}.mirrors");
            Warn(r, route.Fault?.Delay?.ExponentialDelay, $"{path}.fault.delay.exponentialDelay");
            Warn(r, route.Fault?.Abort?.Http2Error, $"{path}.fault.abort.http2Error");
        }

        if (spec.Tcp.Count > 0)
        {
            r.Report("spec.tcp", $"TCP routes are {Ignored}");
        }

        if (spec.Tls.Count > 0)
        {
            r.Report("spec.tls", $"TLS routes are {Ignored}");
        }
    }

    private static void TrafficPolicy(TrafficPolicy? policy, string path, Reporter r)
    {
        if (policy is null)
        {
            return;
        }

        if (policy.LoadBalancer is { } lb && (lb.ConsistentHash is not null || lb.LocalityLbSetting is not null
            || lb.Simple is not (null or SimpleLB.Unspecified or SimpleLB.RoundRobin)))
        {
            r.Report($"{path}.loadBalancer", $"only ROUND_ROBIN is supported yet; this load balancer setting is ignored");
        }

        Warn(r, policy.ConnectionPool, $"{path}.connectionPool");
        Warn(r, policy.OutlierDetection, $"{path}.outlierDetection");
        if (policy.Tls is { Mode: not (null or ClientTlsMode.Disable) })
        {
            r.Report($"{path}.tls", "TLS origination (including ISTIO_MUTUAL) is not supported by Bowline yet; traffic stays plaintext");
        }

        Warn(r, policy.PortLevelSettings.Count > 0 ? policy.PortLevelSettings : null, $"{path}.portLevelSettings");
        Warn(r, policy.Tunnel, $"{path}.tunnel");
        Warn(r, policy.ProxyProtocol, $"{path}.proxyProtocol");
    }

    private static void Gateway(GatewaySpec spec, Reporter r)
    {
        for (var i = 0; i < spec.Servers.Count; i++)
        {
            var protocol = spec.Servers[i].Port.Protocol.ToUpperInvariant();
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

    private static void Warn(Reporter r, object? field, string path)
    {
        if (field is not null)
        {
            r.Report(path, Ignored);
        }
    }
}
