using System.Collections.Immutable;
using Bowline.Api.Xds;

namespace Bowline.ControlPlane.Generation;

/// <summary>
/// A service as the mesh sees it, whether from a Kubernetes Service or a ServiceEntry host: a hostname, its ports, and
/// for each port the endpoints (with labels, for subsets).
/// </summary>
internal sealed record MeshService(string Hostname, string Namespace, string? ShortName, ImmutableArray<MeshServicePort> Ports)
{
    /// <summary>ServiceEntry resolution NONE: its clusters forward to the address the app asked for.</summary>
    public bool OriginalDestination { get; init; }

    public MeshServicePort? Port(int number) => Ports.FirstOrDefault(p => p.Number == number);
}

/// <param name="Protocol">Istio's protocol selection for the port (<see cref="Protocols"/>).</param>
internal sealed record MeshServicePort(int Number, string? Name, ServiceProtocol Protocol, ImmutableArray<MeshEndpoint> Endpoints);

/// <param name="Workload">The pod's workload metadata (destination_* metric labels); null for ServiceEntry endpoints.</param>
internal sealed record MeshEndpoint(string Address, int Port, string? Pod, IReadOnlyDictionary<string, string> Labels, WorkloadMetadata? Workload = null)
{
    /// <summary>ServiceEntry endpoint weight; null means 1.</summary>
    public int? Weight { get; init; }
}
