using System.Collections.Immutable;
using Bowline.Api.Management;
using Bowline.Api.Registry;

namespace Bowline.Cli.Up;

/// <summary>
/// Turns the manifests into pods (one per Deployment replica, plus the ingress gateway, plus the egress gateway when a
/// Gateway selects it) with ports picked.
/// </summary>
internal static class MeshPlanner
{
    public const string GatewayPodName = "istio-ingressgateway-0";
    public const string GatewayNamespace = "istio-system";

    public static readonly ImmutableDictionary<string, string> GatewayLabels = ImmutableDictionary<string, string>.Empty
        .Add("istio", "ingressgateway")
        .Add("app", "istio-ingressgateway");

    public const string EgressGatewayPodName = "istio-egressgateway-0";
    public const string EgressGatewayService = "istio-egressgateway";

    public static readonly ImmutableDictionary<string, string> EgressGatewayLabels = ImmutableDictionary<string, string>.Empty
        .Add("istio", "egressgateway")
        .Add("app", "istio-egressgateway");

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
        if (EgressGatewayPod(manifests, ports) is { } egress)
        {
            pods.Add(new PlannedPod(egress, null));
        }

        return new MeshPlan(pods.ToImmutable(), ports.Allocate());
    }

    /// <summary>
    /// The egress gateway: mesh traffic reaches it through its Service (istio-egressgateway.istio-system), never from
    /// outside, so each server port gets a free port, declared as the pod's container port so that the Service's
    /// endpoints point at the gateway listener.
    /// </summary>
    private static LocalPod? EgressGatewayPod(Manifests manifests, PortAllocator ports)
    {
        var serverPorts = manifests.Gateways
            .Where(g => g.Selector.Count > 0 && g.Selector.All(kv => EgressGatewayLabels.TryGetValue(kv.Key, out var value) && value == kv.Value))
            .SelectMany(g => g.Ports)
            .Distinct()
            .Order()
            .ToList();
        if (serverPorts.Count == 0)
        {
            return null;
        }

        var mapped = serverPorts.ToImmutableDictionary(port => port, _ => ports.Allocate());
        return new LocalPod
        {
            Name = EgressGatewayPodName,
            Namespace = GatewayNamespace,
            Workload = EgressGatewayService,
            Labels = EgressGatewayLabels,
            ServiceAccount = "istio-egressgateway-service-account",
            Role = ProxyRole.Gateway,
            GatewayPorts = mapped,
            Ports = [.. mapped.OrderBy(kv => kv.Key).Select(kv => new LocalPodPort
            {
                ContainerPort = kv.Key,
                Name = EgressPortName(kv.Key),
                AppPort = kv.Value,
                InboundPort = kv.Value,
            })],
            AdminPort = ports.Allocate(),
        };
    }

    private static string EgressPortName(int port) => port == 80 ? "http" : $"http-{port}";

    /// <summary>
    /// The Service in front of the egress gateway, as Istio's installation creates it, unless the files define one:
    /// the mesh's VirtualServices route to istio-egressgateway.istio-system.svc.cluster.local.
    /// </summary>
    public static ConfigFile? EgressGatewayServiceFile(MeshPlan plan, Manifests manifests)
    {
        if (plan.EgressGateway is not { } egress || manifests.Services.Contains($"{GatewayNamespace}/{EgressGatewayService}"))
        {
            return null;
        }

        var yaml = new System.Text.StringBuilder($$"""
            apiVersion: v1
            kind: Service
            metadata:
              name: {{EgressGatewayService}}
              namespace: {{GatewayNamespace}}
            spec:
              selector: {istio: egressgateway}
              ports:

            """);
        foreach (var port in egress.Pod.Ports)
        {
            yaml.Append(System.Globalization.CultureInfo.InvariantCulture, $"  - {{name: {port.Name}, port: {port.ContainerPort}, targetPort: {port.ContainerPort}}}\n");
        }

        return new ConfigFile { Name = "(bowline up: egress gateway Service)", Content = yaml.ToString() };
    }

    /// <summary>
    /// <c>up --outbound-traffic-policy MODE</c> as Istio's mesh config ConfigMap. Refused when DIR has its own (its
    /// other mesh settings would be replaced): set the mode there instead.
    /// </summary>
    public static ConfigFile MeshConfigFile(string mode, Manifests manifests) =>
        manifests.ConfigMaps.Contains($"{GatewayNamespace}/istio")
            ? throw new ManifestException($"--outbound-traffic-policy: DIR defines the mesh config ConfigMap {GatewayNamespace}/istio; set outboundTrafficPolicy.mode there")
            : new ConfigFile
            {
                Name = "(bowline up --outbound-traffic-policy)",
                Content = $"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: istio\n  namespace: {GatewayNamespace}\ndata:\n  mesh: \"outboundTrafficPolicy: {{mode: {mode}}}\"\n",
            };

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
