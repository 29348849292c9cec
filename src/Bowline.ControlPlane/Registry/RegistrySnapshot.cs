using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Bowline.Api.Registry;

namespace Bowline.ControlPlane.Registry;

/// <summary>The workloads known at one moment. Immutable; a change publishes a new snapshot.</summary>
internal sealed record RegistrySnapshot(long Generation, ImmutableArray<LocalPod> Pods)
{
    // Pods by id per snapshot (by reference, outside the record so equality is untouched), built on first lookup: a
    // push round looks up every connected proxy, and a scan per proxy made that O(proxies × pods).
    private static readonly ConditionalWeakTable<RegistrySnapshot, FrozenDictionary<string, LocalPod>> ById = [];

    public static RegistrySnapshot Empty { get; } = new(0, []);

    /// <summary>The pod a proxy id ("pod.namespace") or pod+namespace names, if it is registered.</summary>
    public LocalPod? Find(string pod, string ns) =>
        Pods.FirstOrDefault(p => p.Name == pod && p.Namespace == ns);

    public LocalPod? FindById(string id) => ById.GetValue(this, static s =>
    {
        var byId = new Dictionary<string, LocalPod>(StringComparer.Ordinal);
        foreach (var p in s.Pods)
        {
            byId.TryAdd(IdOf(p), p); // the first wins, as the scan it replaces
        }

        return byId.ToFrozenDictionary(StringComparer.Ordinal);
    }).GetValueOrDefault(id);

    public static string IdOf(LocalPod p) => $"{p.Name}.{p.Namespace}";
}
