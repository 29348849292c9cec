using Bowline.Api.Xds;
using Bowline.ControlPlane.Generation;

namespace Bowline.ControlPlane.Tests.Generation;

public sealed class GatewayGenerationTests
{
    private static ProxyConfig GatewayConfig(params string[] yaml) =>
        ProxyConfigGenerator.Generate(Bookinfo.Snapshot(yaml.Length == 0 ? [Bookinfo.All] : yaml), Bookinfo.Registry(), Bookinfo.Gateway0).Config;

    [Fact]
    public void Generate_GatewayPod_ListenerOnMappedPort()
    {
        var c = GatewayConfig();

        var l = Assert.Single(c.Listeners);
        Assert.Equal(("gateway|8080", ListenerKind.Gateway, "127.0.0.1", 18080, "gateway|8080"), (l.Name, l.Kind, l.Address, l.Port, l.RouteTable));
    }

    [Fact]
    public void Generate_GatewayRouteTable_BookinfoRoutesOnStarDomain()
    {
        var c = GatewayConfig();

        var vh = Assert.Single(Assert.Single(c.RouteTables).VirtualHosts);
        Assert.Equal(["*"], vh.Domains.ToArray());
        var route = Assert.Single(vh.Routes);
        Assert.Equal(["/productpage", null], route.Matches.Select(m => m.Uri!.Exact));
        Assert.Equal([null, "/static"], route.Matches.Select(m => m.Uri!.Prefix));
        Assert.Equal("outbound|9080||productpage.default.svc.cluster.local", Assert.Single(route.Destinations).Cluster);
        // Only the clusters its routes use.
        Assert.Equal(["outbound|9080||productpage.default.svc.cluster.local"], c.Clusters.Select(x => x.Name));
        Assert.Equal(20001, c.Clusters[0].Endpoints.Single().Port);
    }

    [Fact]
    public void Generate_ServerHostsRestrictVirtualServiceHosts()
    {
        const string yaml = """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: gw, namespace: istio-system}
            spec:
              selector: {istio: ingressgateway}
              servers:
              - port: {number: 80, name: http, protocol: HTTP}
                hosts: ["default/*.example.com"]
              - port: {number: 443, name: https, protocol: HTTPS}
                hosts: ["*"]
                tls: {mode: SIMPLE, credentialName: cert}
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: shop}
            spec:
              hosts: [shop.example.com, shop.other.org]
              gateways: [istio-system/gw]
              http:
              - route:
                - destination: {host: productpage}
            """;
        var c = GatewayConfig(Bookinfo.Services, yaml);

        var l = Assert.Single(c.Listeners);
        Assert.Equal(("gateway|80", 80), (l.Name, l.Port));
        var vh = Assert.Single(Assert.Single(c.RouteTables).VirtualHosts);
        Assert.Equal(["shop.example.com", "shop.example.com:80"], vh.Domains.ToArray());
    }

    [Fact]
    public void Generate_MeshOnlyMatchGateways_NotOnGateway()
    {
        const string vs = """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: both}
            spec:
              hosts: ["*"]
              gateways: [bookinfo-gateway, mesh]
              http:
              - match:
                - gateways: [mesh]
                  uri: {prefix: /internal}
                route:
                - destination: {host: details}
              - route:
                - destination: {host: productpage}
            """;
        var gw = Bookinfo.Gateway.Split("---")[0];
        var c = GatewayConfig(Bookinfo.Services, gw, vs);

        var route = Assert.Single(Assert.Single(Assert.Single(c.RouteTables).VirtualHosts).Routes);
        Assert.Equal("default/both[1]", route.Name);
    }
}
