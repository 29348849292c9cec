using System.Collections.Immutable;
using Bowline.Api.Registry;

namespace Bowline.Cli.Up;

/// <summary>Turns the manifests into pods (one per Deployment replica, plus the ingress gateway) with ports picked.</summary>
internal static class MeshPlanner
{
    public const string GatewayPodName = "istio-ingressgateway-0";
    public const string GatewayNamespace = "istio-system";

    public static readonly ImmutableDictionary<string, string> GatewayLabels = ImmutableDictionary<string, string>.Empty
        .Add("istio", "ingressgateway")
        .Add("app", "istio-ingressgateway");

    public static MeshPlan Plan(Manifests manifests, GatewayPortMode gatewayPorts, PortAllocator ports)
    {
        var pods = ImmutableArray.CreateBuilder<PlannedPod>();
        foreach (var deployment in manifests.Deployments)
        {
            for (var i = 0; i < deployment.Replicas; i++)
            {
                var pod = new LocalPod
                {
                    Name = $"{deployment.Name}-{i}",
                    Namespace = deployment.Namespace,
                    Workload = deployment.Name,
                    Labels = deployment.Labels,
                    ServiceAccount = deployment.ServiceAccount,
                    Role = ProxyRole.Sidecar,
                    Ports = [.. deployment.Ports.Select(p => new LocalPodPort
                    {
                        ContainerPort = p.ContainerPort,
                        Name = p.Name,
                        AppPort = ports.Allocate(),
                        InboundPort = ports.Allocate(),
                    })],
                    OutboundPort = ports.Allocate(),
                    AdminPort = ports.Allocate(),
                };
                pods.Add(new PlannedPod(pod, deployment));
            }
        }
        pods.Add(new PlannedPod(GatewayPod(manifests, gatewayPorts, ports), null));
        return new MeshPlan(pods.ToImmutable(), ports.Allocate());
    }

    private static LocalPod GatewayPod(Manifests manifests, GatewayPortMode mode, PortAllocator ports)
    {
        // Only Gateways that select the one ingress gateway `up` runs get listeners on it.
        var serverPorts = manifests.Gateways
            .Where(g => g.Selector.All(kv => GatewayLabels.TryGetValue(kv.Key, out var value) && value == kv.Value))
            .SelectMany(g => g.Ports)
            .Distinct()
            .Order();
        var mapped = serverPorts.ToImmutableDictionary(port => port, port => mode == GatewayPortMode.Auto ? ports.Allocate() : port);
        return new LocalPod
        {
            Name = GatewayPodName,
            Namespace = GatewayNamespace,
            Workload = "istio-ingressgateway",
            Labels = GatewayLabels,
            ServiceAccount = "istio-ingressgateway-service-account",
            Role = ProxyRole.Gateway,
            GatewayPorts = mapped,
            AdminPort = ports.Allocate(),
        };
    }
}
