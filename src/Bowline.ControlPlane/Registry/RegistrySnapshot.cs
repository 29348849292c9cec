using System.Collections.Immutable;
using Bowline.Api.Registry;

namespace Bowline.ControlPlane.Registry;

/// <summary>The workloads known at one moment. Immutable; a change publishes a new snapshot.</summary>
internal sealed record RegistrySnapshot(long Generation, ImmutableArray<LocalPod> Pods)
{
    public static RegistrySnapshot Empty { get; } = new(0, []);

    /// <summary>The pod a proxy id ("pod.namespace") or pod+namespace names, if it is registered.</summary>
    public LocalPod? Find(string pod, string ns) =>
        Pods.FirstOrDefault(p => p.Name == pod && p.Namespace == ns);

    public LocalPod? FindById(string id) => Pods.FirstOrDefault(p => IdOf(p) == id);

    public static string IdOf(LocalPod p) => $"{p.Name}.{p.Namespace}";
}
