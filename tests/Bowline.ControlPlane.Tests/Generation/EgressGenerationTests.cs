using System.Collections.Immutable;
using Bowline.Api.Registry;
using Bowline.Api.Xds;
using Bowline.ControlPlane.Generation;

namespace Bowline.ControlPlane.Tests.Generation;

/// <summary>ServiceEntry resolutions, outboundTrafficPolicy and the egress gateway, as the control plane generates them.</summary>
public sealed class EgressGenerationTests
{
    private const string RegistryOnly = """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: istio, namespace: istio-system}
        data:
          mesh: |
            outboundTrafficPolicy:
              mode: REGISTRY_ONLY
        """;

    private static ProxyConfig Sidecar(params string[] yaml) =>
        ProxyConfigGenerator.Generate(Bookinfo.Snapshot([Bookinfo.Services, .. yaml]), Bookinfo.Registry(), Bookinfo.PodNamed("productpage-v1-0")).Config;

    private static VirtualHost Host(ProxyConfig c, string name) => Assert.Single(Assert.Single(c.RouteTables).VirtualHosts, h => h.Name == name);

    private static Cluster ClusterNamed(ProxyConfig c, string name) => Assert.Single(c.Clusters, x => x.Name == name);

    [Fact]
    public void Generate_AllowAnyByDefault_LastHostPassesThrough()
    {
        var c = Sidecar();

        var last = Assert.Single(c.RouteTables).VirtualHosts[^1];
        Assert.Equal(("allow_any", "*"), (last.Name, Assert.Single(last.Domains)));
        var route = Assert.Single(last.Routes);
        Assert.Equal(("allow_any", "PassthroughCluster"), (route.Name, Assert.Single(route.Destinations).Cluster));
        var passthrough = ClusterNamed(c, "PassthroughCluster");
        Assert.Equal(ClusterType.OriginalDestination, passthrough.Type);
        Assert.Empty(passthrough.Endpoints);
    }

    [Fact]
    public void Generate_RegistryOnly_LastHostAnswers502AsBlockAll()
    {
        var c = Sidecar(RegistryOnly);

        var last = Assert.Single(c.RouteTables).VirtualHosts[^1];
        Assert.Equal(("block_all", "*"), (last.Name, Assert.Single(last.Domains)));
        var route = Assert.Single(last.Routes);
        Assert.Equal(("block_all", 502), (route.Name, route.DirectResponse!.Status));
        Assert.Empty(route.Destinations);
        Assert.DoesNotContain(c.Clusters, x => x.Name == "PassthroughCluster");
    }

    [Fact]
    public void Generate_Static_EndpointsWithWeightsAndSubsetsByLabel()
    {
        var c = Sidecar("""
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: ext}
            spec:
              hosts: [api.example.com]
              location: MESH_EXTERNAL
              ports: [{number: 80, name: http, protocol: HTTP}]
              resolution: STATIC
              endpoints:
              - {address: 127.0.0.2, ports: {http: 8081}, labels: {version: a}, weight: 3}
              - {address: 127.0.0.3, labels: {version: b}}
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: ext}
            spec:
              host: api.example.com
              subsets:
              - {name: b, labels: {version: b}}
            """);

        Assert.Equal(["api.example.com", "api.example.com:80"], Host(c, "api.example.com:80").Domains.ToArray());
        var all = ClusterNamed(c, "outbound|80||api.example.com");
        Assert.Null(all.Type);
        Assert.Equal([("127.0.0.2", 8081, (int?)3), ("127.0.0.3", 80, null)], all.Endpoints.Select(e => (e.Address, e.Port, e.Weight)));
        Assert.Equal(["127.0.0.3"], ClusterNamed(c, "outbound|80|b|api.example.com").Endpoints.Select(e => e.Address));
    }

    [Fact]
    public void Generate_Dns_ResolvesEndpointNamesElseTheHost()
    {
        var c = Sidecar("""
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: named}
            spec:
              hosts: [api.example.com]
              ports: [{number: 80, name: http, protocol: HTTP}]
              resolution: DNS
              endpoints:
              - {address: localhost, ports: {http: 9000}}
            ---
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: self}
            spec:
              hosts: [self.example.com]
              ports: [{number: 8080, name: http, protocol: HTTP}]
              resolution: DNS_ROUND_ROBIN
            """);

        Assert.Equal([("localhost", 9000)], ClusterNamed(c, "outbound|80||api.example.com").Endpoints.Select(e => (e.Address, e.Port)));
        Assert.Equal([("self.example.com", 8080)], ClusterNamed(c, "outbound|8080||self.example.com").Endpoints.Select(e => (e.Address, e.Port)));
    }

    [Fact]
    public void Generate_NoneWithWildcardHost_OriginalDestinationCluster_TcpPortsSkipped()
    {
        var c = Sidecar(RegistryOnly, """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: wild}
            spec:
              hosts: ["*.example.com"]
              ports:
              - {number: 80, name: http, protocol: HTTP}
              - {number: 5432, name: tcp, protocol: TCP}
              resolution: NONE
            """);

        Assert.Equal(["*.example.com", "*.example.com:80"], Host(c, "*.example.com:80").Domains.ToArray());
        var cluster = ClusterNamed(c, "outbound|80||*.example.com");
        Assert.Equal(ClusterType.OriginalDestination, cluster.Type);
        Assert.Empty(cluster.Endpoints);
        Assert.DoesNotContain(c.Clusters, x => x.Name.Contains("|5432|", StringComparison.Ordinal));
        // Registered hosts pass even under REGISTRY_ONLY: only the last, catch-all host refuses.
        Assert.Equal("block_all", Assert.Single(c.RouteTables).VirtualHosts[^1].Name);
    }

    [Fact]
    public void Generate_EgressGatewayTask_MeshToGatewayToExternalHost()
    {
        var yaml = """
            apiVersion: v1
            kind: Service
            metadata: {name: istio-egressgateway, namespace: istio-system}
            spec:
              selector: {istio: egressgateway}
              ports: [{name: http, port: 80, targetPort: 80}]
            ---
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: cnn}
            spec:
              hosts: [edition.cnn.com]
              ports: [{number: 80, name: http-port, protocol: HTTP}]
              resolution: STATIC
              endpoints: [{address: 127.0.0.2, ports: {http-port: 18000}}]
            ---
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: istio-egressgateway}
            spec:
              selector: {istio: egressgateway}
              servers:
              - port: {number: 80, name: http, protocol: HTTP}
                hosts: [edition.cnn.com]
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: egressgateway-for-cnn}
            spec:
              host: istio-egressgateway.istio-system.svc.cluster.local
              subsets: [{name: cnn}]
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: direct-cnn-through-egress-gateway}
            spec:
              hosts: [edition.cnn.com]
              gateways: [istio-egressgateway, mesh]
              http:
              - match: [{gateways: [mesh], port: 80}]
                route:
                - destination: {host: istio-egressgateway.istio-system.svc.cluster.local, subset: cnn, port: {number: 80}}
                  weight: 100
              - match: [{gateways: [istio-egressgateway], port: 80}]
                route:
                - destination: {host: edition.cnn.com, port: {number: 80}}
                  weight: 100
            """;
        var egress = new LocalPod
        {
            Name = "istio-egressgateway-0",
            Namespace = "istio-system",
            Workload = "istio-egressgateway",
            Role = ProxyRole.Gateway,
            Labels = ImmutableDictionary<string, string>.Empty.Add("istio", "egressgateway").Add("app", "istio-egressgateway"),
            GatewayPorts = ImmutableDictionary<int, int>.Empty.Add(80, 31080),
            Ports = [new LocalPodPort { ContainerPort = 80, Name = "http", AppPort = 31080, InboundPort = 31080 }],
            AdminPort = 31081,
        };
        var snapshot = Bookinfo.Snapshot(Bookinfo.Services, yaml);
        var registry = Bookinfo.Registry(egress);

        var sidecar = ProxyConfigGenerator.Generate(snapshot, registry, Bookinfo.PodNamed("productpage-v1-0")).Config;
        var meshRoute = Assert.Single(Host(sidecar, "edition.cnn.com:80").Routes);
        const string toGateway = "outbound|80|cnn|istio-egressgateway.istio-system.svc.cluster.local";
        Assert.Equal(toGateway, Assert.Single(meshRoute.Destinations).Cluster);
        Assert.Equal([("127.0.0.1", 31080)], ClusterNamed(sidecar, toGateway).Endpoints.Select(e => (e.Address, e.Port)));

        var gateway = ProxyConfigGenerator.Generate(snapshot, registry, egress).Config;
        var listener = Assert.Single(gateway.Listeners);
        Assert.Equal(("gateway|80", 31080), (listener.Name, listener.Port));
        var gatewayHost = Assert.Single(Assert.Single(gateway.RouteTables).VirtualHosts);
        Assert.Contains("edition.cnn.com", gatewayHost.Domains);
        Assert.Equal("outbound|80||edition.cnn.com", Assert.Single(Assert.Single(gatewayHost.Routes).Destinations).Cluster);
        Assert.Equal([("127.0.0.2", 18000)], ClusterNamed(gateway, "outbound|80||edition.cnn.com").Endpoints.Select(e => (e.Address, e.Port)));
        // A gateway has no catch-all: hosts it was not configured for get 404 NR, as in Istio.
        Assert.DoesNotContain(gateway.Clusters, x => x.Name == "PassthroughCluster");
    }

    [Fact]
    public void Generate_WorkloadSelector_SelectsWorkloadEntriesAndPodsThroughTheirSidecars()
    {
        var c = Sidecar("""
            apiVersion: networking.istio.io/v1
            kind: WorkloadEntry
            metadata: {name: vm-1}
            spec:
              address: 127.0.0.2
              labels: {app: details, version: vm}
              ports: {http: 8080}
              weight: 2
            ---
            apiVersion: networking.istio.io/v1
            kind: WorkloadEntry
            metadata: {name: other, namespace: elsewhere}
            spec:
              address: 127.0.0.9
              labels: {app: details}
            ---
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: details-all}
            spec:
              hosts: [details.internal]
              location: MESH_INTERNAL
              ports: [{number: 80, name: http, protocol: HTTP, targetPort: 9080}]
              resolution: STATIC
              workloadSelector:
                labels: {app: details}
            """);

        // The WorkloadEntry of the same namespace at its named port, and the details pod at its sidecar's inbound port.
        Assert.Equal(
            [("127.0.0.1", 20011, "details-v1-0", (int?)null), ("127.0.0.2", 8080, null, 2)],
            ClusterNamed(c, "outbound|80||details.internal").Endpoints.Select(e => (e.Address, e.Port, e.Pod, e.Weight)));
    }
}
