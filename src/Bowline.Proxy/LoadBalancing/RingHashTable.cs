namespace Bowline.Proxy.LoadBalancing;

/// <summary>
/// Envoy's ring hash (Ketama): each endpoint owns points at xxHash64("address:port_i"); a key belongs to the first
/// point at or after its hash, wrapping around. Envoy gives each endpoint ⌈minimumRingSize / N⌉ points, so adding an
/// endpoint also moves points of the others (4 → 5 endpoints moves ~32% of keys, not 20%); here that count is rounded
/// up to a power of two, so the other endpoints keep their points and only the keys the new one takes move (~1/N) —
/// unless N crosses a power of two. The ring still has at least minimumRingSize points.
/// </summary>
internal sealed class RingHashTable : ConsistentHashTable
{
    private readonly ulong[] _hashes;
    private readonly int[] _owners;

    public RingHashTable(IReadOnlyList<UpstreamEndpoint> endpoints, long minimumRingSize)
    {
        var perEndpoint = (int)System.Numerics.BitOperations.RoundUpToPowerOf2(
            (ulong)Math.Max(1, (minimumRingSize + endpoints.Count - 1) / Math.Max(1, endpoints.Count)));
        var points = new (ulong Hash, int Owner)[endpoints.Count * perEndpoint];
        var n = 0;
        for (var e = 0; e < endpoints.Count; e++)
        {
            for (var i = 0; i < perEndpoint; i++)
            {
                points[n++] = (XxHash64.Hash($"{endpoints[e].HashKey}_{i}"), e);
            }
        }

        // Ties (practically impossible) are broken by endpoint order, so every proxy builds the same ring.
        Array.Sort(points, static (a, b) => a.Hash != b.Hash ? a.Hash.CompareTo(b.Hash) : a.Owner.CompareTo(b.Owner));
        _hashes = new ulong[points.Length];
        _owners = new int[points.Length];
        for (var i = 0; i < points.Length; i++)
        {
            (_hashes[i], _owners[i]) = points[i];
        }
    }

    public override int SlotCount => _hashes.Length;

    public override int SlotOf(ulong hash)
    {
        var index = Array.BinarySearch(_hashes, hash);
        if (index < 0)
        {
            index = ~index;
        }

        return index == _hashes.Length ? 0 : index;
    }

    public override int EndpointAt(int slot) => _owners[slot];
}
