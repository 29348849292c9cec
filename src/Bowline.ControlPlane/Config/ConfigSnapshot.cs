using System.Collections.Immutable;
using Bowline.Api.Resources;

namespace Bowline.ControlPlane.Config;

/// <summary>An immutable view of the whole store. Readers take the current one and never lock.</summary>
internal sealed record ConfigSnapshot(long Generation, ImmutableSortedDictionary<ResourceKey, StoredResource> Resources)
{
    public static ConfigSnapshot Empty { get; } = new(0, ImmutableSortedDictionary.Create<ResourceKey, StoredResource>(ResourceKeys.Order));

    /// <summary>Resources of one type in creation order (Istio's tie-break for conflicts).</summary>
    public IEnumerable<T> OfType<T>() where T : Resource =>
        Resources.Values.Where(r => r.Resource is T).OrderBy(r => r.Sequence).Select(r => (T)r.Resource);

    public IReadOnlyList<StoredResource> InCreationOrder() => [.. Resources.Values.OrderBy(r => r.Sequence)];

    /// <summary>Snapshot built directly from resources (tests, tools): sequence = list order.</summary>
    public static ConfigSnapshot From(IEnumerable<Resource> resources, long generation = 1)
    {
        var b = ImmutableSortedDictionary.CreateBuilder<ResourceKey, StoredResource>(ResourceKeys.Order);
        long seq = 0;
        foreach (var r in resources)
        {
            var id = r.Key();
            b[id] = new StoredResource(id, r, "", "<code>", 0, ++seq);
        }

        return new ConfigSnapshot(generation, b.ToImmutable());
    }
}
