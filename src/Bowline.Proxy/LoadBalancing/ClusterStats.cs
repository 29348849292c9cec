namespace Bowline.Proxy.LoadBalancing;

/// <summary>Counters of one cluster (by name), lock-free; outlives config pushes so an admin endpoint can show them later.</summary>
internal sealed class ClusterStats
{
    private long _retries;
    private long _overflows;
    private long _retryOverflows;
    private long _ejections;
    private long _mirrorSuccesses;
    private long _mirrorFailures;

    /// <summary>Retries sent to the cluster (Envoy's upstream_rq_retry).</summary>
    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>Requests refused by the circuit breakers, 503 UO (Envoy's upstream_rq_pending_overflow + upstream_rq_overflow).</summary>
    public long Overflows => Interlocked.Read(ref _overflows);

    /// <summary>Retries not sent because maxRetries were in flight (Envoy's upstream_rq_retry_overflow).</summary>
    public long RetryOverflows => Interlocked.Read(ref _retryOverflows);

    /// <summary>Endpoints ejected by outlier detection (Envoy's outlier_detection.ejections_enforced_total).</summary>
    public long Ejections => Interlocked.Read(ref _ejections);

    /// <summary>Mirror copies sent to the cluster that got a non-5xx answer (the answer itself is discarded).</summary>
    public long MirrorSuccesses => Interlocked.Read(ref _mirrorSuccesses);

    /// <summary>Mirror copies to the cluster that failed (no endpoint, refused, reset, timed out, 5xx); never seen by the caller.</summary>
    public long MirrorFailures => Interlocked.Read(ref _mirrorFailures);

    public void RecordMirror(bool success) => Interlocked.Increment(ref success ? ref _mirrorSuccesses : ref _mirrorFailures);

    public void RecordRetry() => Interlocked.Increment(ref _retries);

    public void RecordOverflow() => Interlocked.Increment(ref _overflows);

    public void RecordRetryOverflow() => Interlocked.Increment(ref _retryOverflows);

    public void RecordEjection() => Interlocked.Increment(ref _ejections);
}
