using System.Collections.Immutable;
using Bowline.Api.Registry;

namespace Bowline.Cli.Up;

internal enum GatewayPortMode
{
    /// <summary>Gateway listeners bind the Gateway server's own port number.</summary>
    Exact,
    /// <summary>Each Gateway server port is mapped to a free port (several meshes, or a busy 8080).</summary>
    Auto,
}

/// <summary>One pod to run: its registry entry and, for a sidecar pod, the Deployment its app comes from.</summary>
internal sealed record PlannedPod(LocalPod Pod, DeploymentManifest? Deployment)
{
    /// <summary>The proxy id, "{pod}.{namespace}".</summary>
    public string ProxyId => $"{Pod.Name}.{Pod.Namespace}";
}

/// <summary>Everything <c>up</c> will start, with every port already chosen.</summary>
internal sealed record MeshPlan(ImmutableArray<PlannedPod> Pods, int ControlPlanePort)
{
    public LocalRegistry Registry => new() { Pods = [.. Pods.Select(p => p.Pod)] };

    /// <summary>The ingress gateway (always run).</summary>
    public PlannedPod Gateway => Pods.Single(p => p.Pod.Name == MeshPlanner.GatewayPodName);

    /// <summary>The egress gateway, run when a Gateway selects it.</summary>
    public PlannedPod? EgressGateway => Pods.SingleOrDefault(p => p.Pod.Name == MeshPlanner.EgressGatewayPodName);

    /// <summary>Gateway server ports that carry raw TCP / TLS passthrough (printed as tcp://, not http://).</summary>
    public ImmutableHashSet<int> TcpGatewayPorts { get; init; } = [];
}
