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
            case ServiceEntry se:
                ServiceEntry(se.Spec, r);
                break;
            case EnvoyFilter filter:
                foreach (var (path, message) in EnvoyFilterRateLimits.Read(filter.Spec).Ignored)
                {
                    r.Report(path, message);
                }

                break;
            case Resources.Telemetry telemetry:
                Telemetry(telemetry.Spec, r);
                break;
            case ConfigMap { Mesh: { } mesh }:
                Mesh(mesh, r);
                break;
            case ConfigMap { IsMeshConfig: false }:
                r.Report("metadata.name", $"only the mesh config ConfigMap ({ConfigMap.MeshNamespace}/{ConfigMap.MeshName}) is read by Bowline; ignored");
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
            var server = spec.Servers[i];
            var path = $"spec.servers[{i}]";
            var protocol = server.Port.Protocol.ToUpperInvariant();
            // TCP servers (MONGO/REDIS/MYSQL as opaque TCP) and TLS/HTTPS passthrough servers are served.
            if (protocol is "TCP" or "MONGO" or "REDIS" or "MYSQL"
                || (protocol is "TLS" or "HTTPS" && server.Tls?.Mode == ServerTlsMode.Passthrough))
            {
                continue;
            }

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

    private static void Telemetry(TelemetrySpec spec, Reporter r)
    {
        Warn(r, spec.TargetRef, "spec.targetRef");
        if (spec.TargetRefs.Count > 0)
        {
            r.Report("spec.targetRefs", Ignored);
        }

        if (spec.Metrics.Count > 0)
        {
            r.Report("spec.metrics", $"metrics overrides are {Ignored}");
        }

        for (var i = 0; i < spec.Tracing.Count; i++)
        {
            var path = $"spec.tracing[{i}]";
            TelemetryMode(spec.Tracing[i].Match, $"{path}.match", r);
            Warn(r, spec.Tracing[i].UseRequestIdForTraceSampling, $"{path}.useRequestIdForTraceSampling");
            Warn(r, spec.Tracing[i].EnableIstioTags, $"{path}.enableIstioTags");
            CustomTags(spec.Tracing[i].CustomTags, $"{path}.customTags", r);
        }

        for (var i = 0; i < spec.AccessLogging.Count; i++)
        {
            TelemetryMode(spec.AccessLogging[i].Match, $"spec.accessLogging[{i}].match", r);
            Warn(r, spec.AccessLogging[i].Filter, $"spec.accessLogging[{i}].filter");
        }
    }

    private static void TelemetryMode(TelemetrySelectorMode? match, string path, Reporter r)
    {
        if (match?.Mode is WorkloadMode.Client or WorkloadMode.Server)
        {
            r.Report($"{path}.mode", "only CLIENT_AND_SERVER is supported by Bowline yet; this entry applies to both sides");
        }
    }

    private static void CustomTags(IReadOnlyDictionary<string, TelemetryCustomTag> tags, string path, Reporter r)
    {
        foreach (var (name, tag) in tags)
        {
            if (tag.Environment is not null || tag.Header is not null)
            {
                r.Report($"{path}.{name}", $"only literal custom tags are supported by Bowline yet; this tag is ignored");
            }
        }
    }

    private static void Mesh(MeshConfig mesh, Reporter r)
    {
        const string p = "data.mesh";
        if (mesh.DefaultConfig?.Tracing is { } tracing)
        {
            CustomTags(tracing.CustomTags, $"{p}.defaultConfig.tracing.customTags", r);
            Warn(r, tracing.TlsSettings, $"{p}.defaultConfig.tracing.tlsSettings");
        }

        for (var i = 0; i < mesh.ExtensionProviders.Count; i++)
        {
            var provider = mesh.ExtensionProviders[i];
            if (provider.Opentelemetry is { Http: null })
            {
                r.Report($"{p}.extensionProviders[{i}].opentelemetry", "OTLP over gRPC is not supported by Bowline yet; set http (OTLP/HTTP) for spans to be sent");
            }

            if (provider.EnvoyFileAccessLog?.LogFormat?.Labels is not null)
            {
                r.Report($"{p}.extensionProviders[{i}].envoyFileAccessLog.logFormat.labels", "JSON labels are not supported by Bowline yet; the default JSON fields are written");
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
