using Bowline.Api.Registry;
using Bowline.Api.Xds;
using Bowline.ControlPlane.Config;
using Bowline.ControlPlane.Registry;

namespace Bowline.ControlPlane.Generation;

/// <summary>
/// config + registry + pod → that proxy's <see cref="ProxyConfig"/>. Pure and deterministic: listeners, route tables
/// and clusters are sorted by name, so equal inputs give byte-equal JSON and therefore equal versions, in any process.
/// </summary>
internal static class ProxyConfigGenerator
{
    public static GeneratedConfig Generate(ConfigSnapshot config, RegistrySnapshot registry, LocalPod pod) =>
        Generate(MeshModel.Build(config, registry), pod);

    public static GeneratedConfig Generate(MeshModel mesh, LocalPod pod)
    {
        var notes = new List<string>();
        var raw = pod.Role == ProxyRole.Gateway
            ? GatewayGenerator.Build(mesh, pod, notes)
            : SidecarGenerator.Build(mesh, pod, notes);
        var config = new ProxyConfig
        {
            Listeners = [.. raw.Listeners.OrderBy(l => l.Name, StringComparer.Ordinal)],
            RouteTables = [.. raw.RouteTables.OrderBy(t => t.Name, StringComparer.Ordinal)],
            Clusters = [.. raw.Clusters.OrderBy(c => c.Name, StringComparer.Ordinal)],
            Telemetry = TelemetryBuilder.Build(mesh, pod),
        };
        return new GeneratedConfig(config, VersionOf(config), [.. notes.Distinct()]);
    }

    /// <summary>The config's version (<see cref="ConfigVersion"/>: a hash over its parts' hashes).</summary>
    public static string VersionOf(ProxyConfig config) => ConfigVersion.Of(config);
}
