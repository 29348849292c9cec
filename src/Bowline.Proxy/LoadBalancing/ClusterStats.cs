namespace Bowline.Proxy.LoadBalancing;

/// <summary>Counters of one cluster (by name), lock-free; outlives config pushes so an admin endpoint can show them later.</summary>
internal sealed class ClusterStats
{
    private long _retries;

    /// <summary>Retries sent to the cluster (Envoy's upstream_rq_retry).</summary>
    public long Retries => Interlocked.Read(ref _retries);

    public void RecordRetry() => Interlocked.Increment(ref _retries);
}
