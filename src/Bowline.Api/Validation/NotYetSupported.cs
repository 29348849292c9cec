using Bowline.Api.Resources;
using Bowline.Api.Tls;

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
        Warn(r, pool?.Tcp?.IdleTimeout, $"{path}.connectionPool.tcp.idleTimeout");
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
            var server = spec.Servers[i];
            var path = $"spec.servers[{i}]";
            var protocol = server.Port.Protocol.ToUpperInvariant();
            if (protocol == "HTTPS" && server.Tls is { Mode: ServerTlsMode.Simple or ServerTlsMode.Mutual or ServerTlsMode.OptionalMutual } tls)
            {
                // TLS termination is supported; these refinements of it are not.
                Warn(r, tls.CaCrl, $"{path}.tls.caCrl");
                Warn(r, tls.CredentialNames.Count > 0 ? tls.CredentialNames : null, $"{path}.tls.credentialNames");
                for (var c = 0; c < tls.CipherSuites.Count; c++)
                {
                    if (!CipherSuiteNames.Iana.ContainsKey(tls.CipherSuites[c]))
                    {
                        r.Report($"{path}.tls.cipherSuites[{c}]", $"unknown or unsupported cipher suite \"{tls.CipherSuites[c]}\"; ignored");
                    }
                }
            }
            else if (protocol == "HTTPS")
            {
                var mode = server.Tls?.Mode switch
                {
                    null or ServerTlsMode.Passthrough => "PASSTHROUGH",
                    ServerTlsMode.AutoPassthrough => "AUTO_PASSTHROUGH",
                    _ => "ISTIO_MUTUAL",
                };
                r.Report($"{path}.tls.mode", $"HTTPS servers with TLS mode {mode} are {Ignored}");
            }
            else if (protocol is not ("HTTP" or "HTTP2" or "GRPC"))
            {
                r.Report($"{path}.port.protocol", $"{protocol} servers are {Ignored}");
            }
            else if (server.Tls is { HttpsRedirect: not true })
            {
                r.Report($"{path}.tls", $"TLS settings other than httpsRedirect on a plaintext server are {Ignored}");
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
