using Bowline.Api.Xds;
using Bowline.ControlPlane.Generation;

namespace Bowline.ControlPlane.Tests.Generation;

public sealed class SidecarGenerationTests
{
    private static ProxyConfig ConfigOf(string pod, params string[] yaml) =>
        ProxyConfigGenerator.Generate(Bookinfo.Snapshot(yaml.Length == 0 ? [Bookinfo.All] : yaml), Bookinfo.Registry(), Bookinfo.PodNamed(pod)).Config;

    private static VirtualHost Vhost(ProxyConfig c, string name) =>
        c.RouteTables.Single(t => t.Name == "outbound").VirtualHosts.Single(h => h.Name == name);

    [Fact]
    public void Generate_SidecarPod_InboundPerPortAndOneOutbound()
    {
        var c = ConfigOf("productpage-v1-0");

        Assert.Equal(["inbound|9080", "outbound"], c.Listeners.Select(l => l.Name));
        var inbound = c.Listeners[0];
        Assert.Equal((ListenerKind.Inbound, "127.0.0.1", 20001, "inbound|9080||"), (inbound.Kind, inbound.Address, inbound.Port, inbound.Cluster));
        var outbound = c.Listeners[1];
        Assert.Equal((ListenerKind.Outbound, "127.0.0.1", 20002, "outbound"), (outbound.Kind, outbound.Address, outbound.Port, outbound.RouteTable));
        var app = c.Clusters.Single(x => x.Name == "inbound|9080||");
        Assert.Equal(("127.0.0.1", 20000), (app.Endpoints.Single().Address, app.Endpoints.Single().Port));
    }

    [Fact]
    public void Generate_OutboundVhost_AllNameFormsWithAndWithoutPort()
    {
        var vh = Vhost(ConfigOf("productpage-v1-0"), "details.default.svc.cluster.local:9080");

        Assert.Equal(
            ["details", "details:9080", "details.default", "details.default:9080", "details.default.svc", "details.default.svc:9080",
             "details.default.svc.cluster.local", "details.default.svc.cluster.local:9080"],
            vh.Domains.ToArray());
        var route = Assert.Single(vh.Routes);
        Assert.Equal("outbound|9080||details.default.svc.cluster.local", Assert.Single(route.Destinations).Cluster);
    }

    [Fact]
    public void Generate_ServiceInOtherNamespace_NoShortForms()
    {
        const string other = """
            apiVersion: v1
            kind: Service
            metadata: {name: echo, namespace: tools}
            spec:
              selector: {app: echo}
              ports: [{name: http, port: 80, targetPort: 8080}]
            """;
        var c = ConfigOf("productpage-v1-0", Bookinfo.Services, other);

        Assert.Equal(
            ["echo.tools", "echo.tools:80", "echo.tools.svc", "echo.tools.svc:80", "echo.tools.svc.cluster.local", "echo.tools.svc.cluster.local:80"],
            Vhost(c, "echo.tools.svc.cluster.local:80").Domains.ToArray());
    }

    [Fact]
    public void Generate_ReviewsVirtualService_JasonToV2ThenFiftyFifty()
    {
        var vh = Vhost(ConfigOf("productpage-v1-0"), "reviews.default.svc.cluster.local:9080");

        Assert.Equal(2, vh.Routes.Length);
        var jason = vh.Routes[0];
        Assert.Equal("default/reviews[0]", jason.Name);
        Assert.Equal("jason", Assert.Single(jason.Matches).Headers["end-user"].Exact);
        Assert.Equal("outbound|9080|v2|reviews.default.svc.cluster.local", Assert.Single(jason.Destinations).Cluster);
        var split = vh.Routes[1];
        Assert.Empty(split.Matches);
        Assert.Equal(
            [("outbound|9080|v1|reviews.default.svc.cluster.local", 50), ("outbound|9080|v3|reviews.default.svc.cluster.local", 50)],
            split.Destinations.Select(d => (d.Cluster, d.Weight)));
    }

    [Fact]
    public void Generate_SubsetClusters_EndpointsFilteredBySubsetLabels()
    {
        var c = ConfigOf("productpage-v1-0");

        var all = c.Clusters.Single(x => x.Name == "outbound|9080||reviews.default.svc.cluster.local");
        Assert.Equal(["reviews-v1-0", "reviews-v2-0", "reviews-v3-0"], all.Endpoints.Select(e => e.Pod));
        var v2 = c.Clusters.Single(x => x.Name == "outbound|9080|v2|reviews.default.svc.cluster.local");
        Assert.Equal(("reviews-v2-0", 20041), (v2.Endpoints.Single().Pod, v2.Endpoints.Single().Port));
        Assert.Equal(("reviews.default.svc.cluster.local", "v2"), (v2.Service, v2.Subset));
    }

    [Fact]
    public void Generate_NoVirtualService_DefaultRouteToService()
    {
        var vh = Vhost(ConfigOf("productpage-v1-0", Bookinfo.Services), "reviews.default.svc.cluster.local:9080");

        Assert.Equal("outbound|9080||reviews.default.svc.cluster.local", Assert.Single(Assert.Single(vh.Routes).Destinations).Cluster);
    }

    [Fact]
    public void Generate_SourceLabelsMatch_OnlyOnMatchingPods()
    {
        const string vs = """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: ratings}
            spec:
              hosts: [ratings]
              http:
              - match:
                - sourceLabels: {app: reviews, version: v2}
                route:
                - destination: {host: ratings}
                timeout: 2s
                retries: {attempts: 3, perTryTimeout: 500ms}
              - route:
                - destination: {host: ratings}
            """;
        var fromV2 = Vhost(ConfigOf("reviews-v2-0", Bookinfo.Services, vs), "ratings.default.svc.cluster.local:9080");
        var fromV1 = Vhost(ConfigOf("reviews-v1-0", Bookinfo.Services, vs), "ratings.default.svc.cluster.local:9080");

        Assert.Equal(2, fromV2.Routes.Length);
        Assert.Equal(TimeSpan.FromSeconds(2), fromV2.Routes[0].Timeout);
        Assert.Equal((3, TimeSpan.FromMilliseconds(500)), (fromV2.Routes[0].Retries!.Attempts, fromV2.Routes[0].Retries!.PerTryTimeout));
        Assert.Equal("default/ratings[1]", Assert.Single(fromV1.Routes).Name);
    }

    [Fact]
    public void Generate_GrpcServicePort_InboundAndOutboundHttp2()
    {
        const string svc = """
            apiVersion: v1
            kind: Service
            metadata: {name: reviews}
            spec:
              selector: {app: reviews}
              ports: [{name: grpc-api, port: 9080}]
            """;
        var c = ConfigOf("reviews-v1-0", svc);

        Assert.Equal(UpstreamProtocol.Http2, c.Clusters.Single(x => x.Name == "inbound|9080||").Protocol);
        Assert.Equal(UpstreamProtocol.Http2, c.Clusters.Single(x => x.Name == "outbound|9080||reviews.default.svc.cluster.local").Protocol);
    }

    [Fact]
    public void Generate_ServiceEntryAndExternalVirtualServiceHost_OwnVhosts()
    {
        const string se = """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: httpbin-ext}
            spec:
              hosts: [httpbin.org]
              ports: [{number: 80, name: http, protocol: HTTP}]
              resolution: DNS
              location: MESH_EXTERNAL
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: legacy}
            spec:
              hosts: [legacy.example.com]
              http:
              - route:
                - destination: {host: httpbin.org}
            """;
        var c = ConfigOf("productpage-v1-0", Bookinfo.Services, se);

        Assert.Equal(["httpbin.org", "httpbin.org:80"], Vhost(c, "httpbin.org:80").Domains.ToArray());
        var legacy = Vhost(c, "legacy.example.com");
        Assert.Equal(["legacy.example.com"], legacy.Domains.ToArray());
        Assert.Equal("outbound|80||httpbin.org", Assert.Single(Assert.Single(legacy.Routes).Destinations).Cluster);
        Assert.Equal(("httpbin.org", 80), (c.Clusters.Single(x => x.Name == "outbound|80||httpbin.org").Endpoints.Single().Address, 80));
    }
}
