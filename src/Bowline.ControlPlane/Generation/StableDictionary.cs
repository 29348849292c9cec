using System.Collections.Immutable;

namespace Bowline.ControlPlane.Generation;

/// <summary>
/// ImmutableDictionary enumerates in hash order, and string hashes are randomized per process. Dictionaries in the
/// pushed config use this comparer (ordinal equality, FNV-1a hash) so their JSON — and the version hash — is the same
/// in every process.
/// </summary>
internal sealed class StableStringComparer : IEqualityComparer<string>
{
    public static StableStringComparer Instance { get; } = new();

    public bool Equals(string? x, string? y) => string.Equals(x, y, StringComparison.Ordinal);

    public int GetHashCode(string obj)
    {
        unchecked
        {
            var h = (int)2166136261;
            foreach (var c in obj)
            {
                h = (h ^ c) * 16777619;
            }

            return h;
        }
    }
}

internal static class StableDictionary
{
    public static ImmutableDictionary<string, TValue> From<TSource, TValue>(
        IEnumerable<KeyValuePair<string, TSource>> source, Func<string, string> key, Func<TSource, TValue> value)
    {
        var b = ImmutableDictionary.CreateBuilder<string, TValue>(StableStringComparer.Instance);
        foreach (var kv in source.OrderBy(kv => key(kv.Key), StringComparer.Ordinal))
        {
            b[key(kv.Key)] = value(kv.Value);
        }

        return b.ToImmutable();
    }
}
