using Bowline.Api.Xds;

namespace Bowline.Proxy.LoadBalancing;

/// <summary>
/// Envoy's per-cluster circuit breakers, lock-free. A request holds one slot from admission until its response is
/// done; for HTTP/1 the first maxConnections of them have a connection and the rest are pending, so admission fails
/// (503 UO) once maxConnections + http1MaxPendingRequests are taken, or http2MaxRequests for any protocol. Retries
/// in flight are limited by maxRetries; beyond, the request is answered without retrying.
/// </summary>
internal sealed class CircuitBreaker
{
    private readonly long _maxActive;
    private readonly int _maxRetries;
    private int _active;
    private int _retries;

    public CircuitBreaker(ConnectionPool pool, bool http2)
    {
        long maxActive = long.MaxValue;
        if (pool.MaxRequests is { } maxRequests)
        {
            maxActive = maxRequests;
        }

        // HTTP/2 multiplexes: requests do not wait for a connection of their own, so no pending queue applies.
        if (!http2 && pool.MaxConnections is { } connections && pool.MaxPendingRequests is { } pending)
        {
            maxActive = Math.Min(maxActive, (long)connections + pending);
        }

        _maxActive = maxActive;
        _maxRetries = pool.MaxRetries ?? int.MaxValue;
    }

    public int ActiveRequests => Volatile.Read(ref _active);

    /// <summary>Takes a request slot; false (nothing taken) when the cluster overflows.</summary>
    public bool TryEnter()
    {
        if (Interlocked.Increment(ref _active) <= _maxActive)
        {
            return true;
        }

        Interlocked.Decrement(ref _active);
        return false;
    }

    public void Exit() => Interlocked.Decrement(ref _active);

    /// <summary>Takes a retry slot, held until the request ends; false when maxRetries are in flight already.</summary>
    public bool TryEnterRetry()
    {
        if (Interlocked.Increment(ref _retries) <= _maxRetries)
        {
            return true;
        }

        Interlocked.Decrement(ref _retries);
        return false;
    }

    public void ExitRetry() => Interlocked.Decrement(ref _retries);
}
