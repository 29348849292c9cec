using System.Collections.Immutable;
using Bowline.Api.Registry;
using Bowline.Api.Xds;
using Bowline.ControlPlane.Generation;

namespace Bowline.ControlPlane.Tests.Generation;

/// <summary>TCP and TLS passthrough: gateway listeners from tcp/tls routes, inbound TCP listeners for TCP ports.</summary>
public sealed class TcpGenerationTests
{
    private const string TcpEcho = """
        apiVersion: v1
        kind: Service
        metadata: {name: tcp-echo}
        spec:
          ports:
          - {port: 9000, name: tcp}
          - {port: 9001, name: tcp-other}
          selector: {app: tcp-echo}
        ---
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: tcp-echo-gateway}
        spec:
          selector: {istio: ingressgateway}
          servers:
          - port: {number: 31400, name: tcp, protocol: TCP}
            hosts: ["*"]
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: tcp-echo-destination}
        spec:
          host: tcp-echo
          subsets:
          - {name: v1, labels: {version: v1}}
          - {name: v2, labels: {version: v2}}
        """;

    private const string EightyTwenty = """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: tcp-echo}
        spec:
          hosts: ["*"]
          gateways: [tcp-echo-gateway]
          tcp:
          - match: [{port: 31400}]
            route:
            - destination: {host: tcp-echo, port: {number: 9000}, subset: v1}
              weight: 80
            - destination: {host: tcp-echo, port: {number: 9000}, subset: v2}
              weight: 20
        """;

    private static readonly LocalPod Gateway = Bookinfo.Gateway0 with
    {
        GatewayPorts = ImmutableDictionary<int, int>.Empty.Add(31400, 41400).Add(443, 10443),
    };

    private static LocalPod EchoPod(string version, int basePort) => new()
    {
        Name = $"tcp-echo-{version}-0",
        Namespace = "default",
        Workload = $"tcp-echo-{version}",
        Labels = ImmutableDictionary<string, string>.Empty.Add("app", "tcp-echo").Add("version", version),
        Ports =
        [
            new LocalPodPort { ContainerPort = 9000, AppPort = basePort, InboundPort = basePort + 1 },
            new LocalPodPort { ContainerPort = 9001, AppPort = basePort + 2, InboundPort = basePort + 3 },
        ],
        OutboundPort = basePort + 4,
    };

    private static GeneratedConfig Generate(LocalPod pod, params string[] yaml) =>
        ProxyConfigGenerator.Generate(Bookinfo.Snapshot(yaml), new Registry.RegistrySnapshot(1, [Gateway, EchoPod("v1", 30000), EchoPod("v2", 30010)]), pod);

    [Fact]
    public void TcpServer_WithWeightedTcpRoute_TcpListenerOnTheMappedPortWithBothSubsets()
    {
        var c = Generate(Gateway, TcpEcho, EightyTwenty).Config;

        var l = Assert.Single(c.Listeners);
        Assert.Equal(("gateway|31400", ListenerKind.Gateway, 41400, ListenerProtocol.Tcp), (l.Name, l.Kind, l.Port, l.Protocol));
        Assert.Null(l.RouteTable);
        var route = Assert.Single(l.TcpRoutes!.Value);
        Assert.Empty(route.Matches);
        Assert.Equal(
            [("outbound|9000|v1|tcp-echo.default.svc.cluster.local", 80), ("outbound|9000|v2|tcp-echo.default.svc.cluster.local", 20)],
            route.Destinations.Select(d => (d.Cluster, d.Weight)));
        Assert.Equal(["outbound|9000|v1|tcp-echo.default.svc.cluster.local", "outbound|9000|v2|tcp-echo.default.svc.cluster.local"], c.Clusters.Select(x => x.Name));
        // Subset v1 holds only the v1 pod, at its sidecar's inbound port for 9000.
        Assert.Equal(30001, Assert.Single(c.Clusters[0].Endpoints).Port);
        Assert.Empty(c.RouteTables);
    }

    [Fact]
    public void TcpServer_RouteMatchOnAnotherPortOrGateway_NoRouteSoConnectionsClose()
    {
        var vs = EightyTwenty.Replace("port: 31400", "port: 31401", StringComparison.Ordinal);

        var l = Assert.Single(Generate(Gateway, TcpEcho, vs).Config.Listeners);

        Assert.Empty(l.TcpRoutes!.Value);
    }

    [Fact]
    public void TcpServer_FirstVirtualServiceWins()
    {
        var allV1 = EightyTwenty.Replace("name: tcp-echo}", "name: a-first}", StringComparison.Ordinal)
            .Replace("weight: 80", "weight: 100", StringComparison.Ordinal).Replace("weight: 20", "weight: 0", StringComparison.Ordinal);

        var l = Assert.Single(Generate(Gateway, TcpEcho, allV1, EightyTwenty).Config.Listeners);

        Assert.Equal([100, 0], Assert.Single(l.TcpRoutes!.Value).Destinations.Select(d => d.Weight));
    }

    [Fact]
    public void TlsPassthroughServer_RoutesBySni_ExactBeforeWildcardsAndDuplicatesDropped()
    {
        const string yaml = """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: tls-gw}
            spec:
              selector: {istio: ingressgateway}
              servers:
              - port: {number: 443, name: tls, protocol: TLS}
                hosts: ["*.example.com"]
                tls: {mode: PASSTHROUGH}
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: sni}
            spec:
              hosts: ["*.example.com"]
              gateways: [tls-gw]
              tls:
              - match: [{port: 443, sniHosts: ["*.example.com"]}]
                route: [{destination: {host: tcp-echo, port: {number: 9001}}}]
              - match: [{port: 443, sniHosts: [api.example.com, "*.example.com"]}]
                route: [{destination: {host: tcp-echo, port: {number: 9000}, subset: v2}}]
            """;

        var l = Assert.Single(Generate(Gateway, TcpEcho, yaml).Config.Listeners.Where(x => x.Name == "gateway|443"));

        Assert.Equal((ListenerProtocol.Tls, 10443), (l.Protocol, l.Port));
        Assert.Equal(
            [("api.example.com", "outbound|9000|v2|tcp-echo.default.svc.cluster.local"), ("*.example.com", "outbound|9001||tcp-echo.default.svc.cluster.local")],
            l.TcpRoutes!.Value.Select(r => (Assert.Single(Assert.Single(r.Matches).SniHosts), Assert.Single(r.Destinations).Cluster)));
    }

    [Fact]
    public void SidecarOfTcpService_InboundTcpListenersForItsTcpPorts()
    {
        var c = Generate(EchoPod("v1", 30000), TcpEcho).Config;

        var inbound = c.Listeners.Where(l => l.Kind == ListenerKind.Inbound).OrderBy(l => l.Name, StringComparer.Ordinal).ToList();
        Assert.Equal([("inbound|9000", ListenerProtocol.Tcp, "inbound|9000||"), ("inbound|9001", ListenerProtocol.Tcp, "inbound|9001||")],
            inbound.Select(l => (l.Name, l.Protocol!.Value, l.Cluster!)));
        Assert.All(inbound, l => Assert.Null(l.TcpRoutes));
        Assert.Equal(30000, c.Clusters.Single(x => x.Name == "inbound|9000||").Endpoints.Single().Port);
    }

    [Fact]
    public void SidecarOfHttpService_InboundListenerStaysHttpWithNoProtocolField()
    {
        var c = ProxyConfigGenerator.Generate(Bookinfo.Snapshot(Bookinfo.All), Bookinfo.Registry(), Bookinfo.PodNamed("details-v1-0")).Config;

        Assert.All(c.Listeners, l => Assert.Null(l.Protocol));
    }

    [Fact]
    public void TcpIdleTimeout_AndMaxConnections_FromTheDestinationRule()
    {
        var rule = TcpEcho.Replace("host: tcp-echo\n", "host: tcp-echo\n  trafficPolicy: {connectionPool: {tcp: {idleTimeout: 90m, maxConnections: 3}}}\n", StringComparison.Ordinal);

        var pool = Generate(Gateway, rule, EightyTwenty).Config.Clusters[0].ConnectionPool!;

        Assert.Equal((TimeSpan.FromMinutes(90), 3), (pool.TcpIdleTimeout, pool.MaxConnections));
    }
}
