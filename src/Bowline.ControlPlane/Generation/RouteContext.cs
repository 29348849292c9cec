using Bowline.Api.Registry;

namespace Bowline.ControlPlane.Generation;

/// <summary>
/// Where a VirtualService's routes are being placed: for which pod, on which port (service port for a sidecar,
/// server port for a gateway), and which gateway names count as "here" for match-level <c>gateways</c>
/// ("mesh" for a sidecar, "ns/name" of the bound Gateways for a gateway).
/// </summary>
internal sealed record RouteContext(LocalPod Pod, int Port, IReadOnlySet<string> Gateways);
