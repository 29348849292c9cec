namespace Bowline.Proxy.Pipeline;

/// <summary>
/// Per-proxy counters of traffic to hosts the mesh registry does not know (meshConfig.outboundTrafficPolicy), lock-free.
/// Istio reports these as destination_service_name "BlackHoleCluster" / "PassthroughCluster".
/// </summary>
internal sealed class EgressStats
{
    private long _blackHole;
    private long _passthrough;

    /// <summary>Requests refused with 502 by the "block_all" route (REGISTRY_ONLY).</summary>
    public long BlackHole => Interlocked.Read(ref _blackHole);

    /// <summary>Requests sent to the PassthroughCluster by the "allow_any" route (ALLOW_ANY).</summary>
    public long Passthrough => Interlocked.Read(ref _passthrough);

    public void RecordBlackHole() => Interlocked.Increment(ref _blackHole);

    public void RecordPassthrough() => Interlocked.Increment(ref _passthrough);
}
