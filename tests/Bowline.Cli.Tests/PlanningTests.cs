using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using Bowline.Api.Registry;
using Bowline.Cli.Up;

namespace Bowline.Cli.Tests;

public sealed class PlanningTests
{
    [Fact]
    public void AllocatedPortsAreDistinctAndBindableOnceReleased()
    {
        int[] ports;
        using (var allocator = new PortAllocator())
        {
            ports = [.. Enumerable.Range(0, 20).Select(_ => allocator.Allocate())];
            Assert.False(PortAllocator.IsFree(ports[0]));
        }
        Assert.Equal(ports.Length, ports.Distinct().Count());
        using var listener = new TcpListener(IPAddress.Loopback, ports[0]);
        listener.Start();
    }

    [Fact]
    public void PlansOnePodPerReplicaPlusTheIngressGateway()
    {
        using var ports = new PortAllocator();
        var plan = MeshPlanner.Plan(Manifests(gatewayPorts: [8080]), GatewayPortMode.Exact, ports);

        Assert.Equal(["productpage-v1-0", "reviews-v1-0", "reviews-v1-1", "istio-ingressgateway-0"], plan.Pods.Select(p => p.Pod.Name));
        var reviews = plan.Pods[2].Pod;
        Assert.Equal("shop", reviews.Namespace);
        Assert.Equal("reviews-v1", reviews.Workload);
        Assert.Equal("v1", reviews.Labels["version"]);
        Assert.Equal(ProxyRole.Sidecar, reviews.Role);
        var port = Assert.Single(reviews.Ports);
        Assert.Equal(9080, port.ContainerPort);
        Assert.Equal("reviews-v1-1.shop", plan.Pods[2].ProxyId);

        var gateway = plan.Gateway.Pod;
        Assert.Equal("istio-system", gateway.Namespace);
        Assert.Equal(ProxyRole.Gateway, gateway.Role);
        Assert.Equal("ingressgateway", gateway.Labels["istio"]);
        Assert.Equal("istio-ingressgateway", gateway.Labels["app"]);
        Assert.Equal(8080, gateway.GatewayPorts[8080]);

        // Every port up binds itself is distinct (gateway listeners excepted: they are the Gateway's own numbers).
        var picked = plan.Pods.SelectMany(p => p.Pod.Ports.SelectMany(x => new[] { x.AppPort, x.InboundPort }))
            .Concat(plan.Pods.Where(p => p.Pod.Role == ProxyRole.Sidecar).Select(p => p.Pod.OutboundPort))
            .Concat(plan.Pods.Select(p => p.Pod.AdminPort))
            .Append(plan.ControlPlanePort)
            .ToList();
        Assert.Equal(picked.Count, picked.Distinct().Count());
        Assert.All(picked, p => Assert.InRange(p, 1024, 65535));
    }

    [Fact]
    public void AutoGatewayPortsMapEachServerPortToAFreeOne()
    {
        using var ports = new PortAllocator();
        var plan = MeshPlanner.Plan(Manifests(gatewayPorts: [8080, 8443]), GatewayPortMode.Auto, ports);

        var mapped = plan.Gateway.Pod.GatewayPorts;
        Assert.Equal([8080, 8443], mapped.Keys.Order());
        Assert.DoesNotContain(8080, mapped.Values);
        Assert.NotEqual(mapped[8080], mapped[8443]);
    }

    [Fact]
    public void GatewaysSelectingAnotherWorkloadGetNoListenerOnTheIngressGateway()
    {
        var manifests = Manifests(gatewayPorts: [8080]);
        manifests = manifests with
        {
            Gateways = manifests.Gateways.Add(new GatewayManifest("egress", ImmutableDictionary<string, string>.Empty.Add("istio", "egressgateway"), [9999])),
        };
        using var ports = new PortAllocator();
        Assert.Equal([8080], MeshPlanner.Plan(manifests, GatewayPortMode.Exact, ports).Gateway.Pod.GatewayPorts.Keys);
    }

    [Fact]
    public void AGatewaySelectingTheEgressGatewayStartsIt_OnFreePorts_WithItsService()
    {
        var manifests = Manifests(gatewayPorts: [8080]);
        manifests = manifests with
        {
            Gateways = manifests.Gateways.Add(new GatewayManifest("istio-egressgateway", ImmutableDictionary<string, string>.Empty.Add("istio", "egressgateway"), [80])),
        };
        using var ports = new PortAllocator();
        var plan = MeshPlanner.Plan(manifests, GatewayPortMode.Exact, ports);

        var egress = plan.EgressGateway!.Pod;
        Assert.Equal(("istio-egressgateway-0", "istio-system", ProxyRole.Gateway), (egress.Name, egress.Namespace, egress.Role));
        Assert.Equal("egressgateway", egress.Labels["istio"]);
        Assert.NotEqual(80, egress.GatewayPorts[80]);
        // Server port 80 is the pod's container port, so the Service's endpoint is the gateway listener.
        var port = Assert.Single(egress.Ports);
        Assert.Equal((80, egress.GatewayPorts[80]), (port.ContainerPort, port.InboundPort));
        Assert.Equal("istio-ingressgateway-0", plan.Gateway.Pod.Name);

        var service = MeshPlanner.EgressGatewayServiceFile(plan, manifests)!;
        var parsed = Bowline.Api.Yaml.ResourceParser.Parse(service.Name, service.Content);
        Assert.Empty(parsed.Diagnostics);
        var svc = Assert.IsType<Bowline.Api.Resources.KubeService>(Assert.Single(parsed.Resources).Resource);
        Assert.Equal(("istio-egressgateway", "istio-system", 80), (svc.Metadata.Name, svc.Metadata.Namespace, Assert.Single(svc.Spec.Ports).Port));
        Assert.Null(MeshPlanner.EgressGatewayServiceFile(plan, manifests with { Services = ["istio-system/istio-egressgateway"] }));
        Assert.Null(MeshPlanner.Plan(Manifests(gatewayPorts: [8080]), GatewayPortMode.Exact, ports).EgressGateway);
    }

    [Fact]
    public void OutboundTrafficPolicyOption_BecomesTheMeshConfigMap_UnlessDirHasOne()
    {
        var file = MeshPlanner.MeshConfigFile("REGISTRY_ONLY", Manifests(gatewayPorts: [8080]));
        var parsed = Bowline.Api.Yaml.ResourceParser.Parse(file.Name, file.Content);
        Assert.Empty(parsed.Diagnostics);
        Assert.Equal(Bowline.Api.Resources.OutboundTrafficPolicyMode.RegistryOnly,
            Bowline.Api.Resources.MeshConfig.From(parsed.Resources.Select(r => r.Resource).OfType<Bowline.Api.Resources.ConfigMap>()).OutboundMode);
        var withOwn = Manifests(gatewayPorts: [8080]) with { ConfigMaps = ["istio-system/istio"] };
        Assert.Contains("set outboundTrafficPolicy.mode there", Assert.Throws<ManifestException>(() => MeshPlanner.MeshConfigFile("ALLOW_ANY", withOwn)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheRegistryRoundTripsThroughTheSharedFileFormat()
    {
        using var ports = new PortAllocator();
        var plan = MeshPlanner.Plan(Manifests(gatewayPorts: [8080]), GatewayPortMode.Exact, ports);
        var path = Path.Combine(Path.GetTempPath(), $"registry-{Guid.NewGuid():N}.json");
        try
        {
            plan.Registry.Write(path);
            var read = LocalRegistry.Read(path);
            Assert.Equal(plan.Pods.Select(p => p.Pod.Name), read.Pods.Select(p => p.Name));
            Assert.Equal(8080, read.Pods[^1].GatewayPorts[8080]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static Manifests Manifests(ImmutableArray<int> gatewayPorts) => new(
        [
            Deployment("productpage-v1", "default", 1),
            Deployment("reviews-v1", "shop", 2),
        ],
        [new GatewayManifest("bookinfo-gateway", ImmutableDictionary<string, string>.Empty.Add("istio", "ingressgateway"), gatewayPorts)]);

    private static DeploymentManifest Deployment(string name, string ns, int replicas) => new()
    {
        Name = name,
        Namespace = ns,
        Replicas = replicas,
        Labels = ImmutableDictionary<string, string>.Empty.Add("app", name.Split('-')[0]).Add("version", "v1"),
        Command = "true",
        Ports = [new DeclaredPort(9080, "http")],
        Folder = "/tmp",
    };
}
