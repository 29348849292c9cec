namespace Bowline.Proxy.LoadBalancing;

/// <summary>
/// A consistent-hash lookup built at config compile time over all of a cluster's endpoints: a hash lands on a slot,
/// each slot names an endpoint. When that endpoint is ejected the next slots are tried in order, so keys of healthy
/// endpoints never move (Envoy rebuilds over healthy hosts instead; the keys of healthy hosts stay put either way).
/// </summary>
internal abstract class ConsistentHashTable
{
    public abstract int SlotCount { get; }

    /// <summary>The slot a hash lands on.</summary>
    public abstract int SlotOf(ulong hash);

    /// <summary>The endpoint (index into the cluster's endpoints) of a slot.</summary>
    public abstract int EndpointAt(int slot);

    /// <summary>The first available endpoint from the hash's slot on; null when none is.</summary>
    public UpstreamEndpoint? Pick(ulong hash, UpstreamEndpoint[] endpoints, HostSet hosts)
    {
        var count = SlotCount;
        var slot = SlotOf(hash);
        for (var i = 0; i < count; i++)
        {
            var endpoint = endpoints[EndpointAt(slot)];
            if (hosts.IsAvailable(endpoint))
            {
                return endpoint;
            }

            if (++slot == count)
            {
                slot = 0;
            }
        }

        return null;
    }
}
