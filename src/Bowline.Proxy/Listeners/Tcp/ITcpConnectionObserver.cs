namespace Bowline.Proxy.Listeners.Tcp;

/// <summary>
/// Told about every proxied TCP / TLS passthrough connection: where TCP metrics (Istio's istio_tcp_*) and access logs
/// plug in. Called on the connection's own path: implementations must be quick and must not throw.
/// </summary>
internal interface ITcpConnectionObserver
{
    /// <summary>
    /// Once per accepted connection, after it was routed (<see cref="TcpConnectionRecord.Cluster"/> is set unless no
    /// route matched) and before the upstream connect. The record's byte counters then grow while it is open.
    /// </summary>
    void OnTcpConnectionOpened(TcpConnectionRecord connection);

    /// <summary>Exactly once after <see cref="OnTcpConnectionOpened"/>, when both sides are closed: final counts and flags.</summary>
    void OnTcpConnectionClosed(TcpConnectionRecord connection);
}
