namespace Bowline.Proxy.LoadBalancing;

/// <summary>
/// Maglev (Google's, as Envoy builds it): each endpoint walks its own permutation of the table — offset
/// xxHash64(key, 0) mod M, step xxHash64(key, 1) mod (M − 1) + 1 — and the endpoints take turns claiming the next
/// free entry until the table is full. Lookup is one array read; adding an endpoint moves little more than 1/N of keys.
/// </summary>
internal sealed class MaglevTable : ConsistentHashTable
{
    private readonly int[] _table;

    public MaglevTable(IReadOnlyList<UpstreamEndpoint> endpoints, long tableSize)
    {
        var size = (int)tableSize;
        _table = new int[size];
        if (endpoints.Count == 0)
        {
            return;
        }

        Array.Fill(_table, -1);
        var offsets = new ulong[endpoints.Count];
        var skips = new ulong[endpoints.Count];
        var next = new ulong[endpoints.Count];
        for (var e = 0; e < endpoints.Count; e++)
        {
            offsets[e] = XxHash64.Hash(endpoints[e].HashKey, 0) % (ulong)size;
            skips[e] = (XxHash64.Hash(endpoints[e].HashKey, 1) % (ulong)(size - 1)) + 1;
        }

        var filled = 0;
        while (true)
        {
            for (var e = 0; e < endpoints.Count; e++)
            {
                int slot;
                do
                {
                    slot = (int)((offsets[e] + (next[e]++ * skips[e])) % (ulong)size);
                }
                while (_table[slot] >= 0);

                _table[slot] = e;
                if (++filled == size)
                {
                    return;
                }
            }
        }
    }

    public override int SlotCount => _table.Length;

    public override int SlotOf(ulong hash) => (int)(hash % (ulong)_table.Length);

    public override int EndpointAt(int slot) => _table[slot];
}
