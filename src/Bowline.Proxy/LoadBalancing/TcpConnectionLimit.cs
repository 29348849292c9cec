namespace Bowline.Proxy.LoadBalancing;

/// <summary>Open TCP connections of one cluster; lives in its <see cref="ClusterState"/>, so it outlasts pushes.</summary>
internal sealed class TcpConnectionCount
{
    private int _open;

    public int Open => Volatile.Read(ref _open);

    internal int Increment() => Interlocked.Increment(ref _open);

    internal void Decrement() => Interlocked.Decrement(ref _open);
}

/// <summary>
/// Envoy's max_connections circuit breaker for proxied TCP connections (Istio's tcp.maxConnections), lock-free: a
/// connection holds a slot from before its upstream connect until it closes; beyond the limit it is refused (UO).
/// </summary>
internal sealed class TcpConnectionLimit(TcpConnectionCount count, int? max)
{
    public int Open => count.Open;

    public bool TryOpen()
    {
        if (count.Increment() <= (max ?? int.MaxValue))
        {
            return true;
        }

        count.Decrement();
        return false;
    }

    public void Close() => count.Decrement();
}
