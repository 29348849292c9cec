using Bowline.Proxy.Listeners.Tcp;

namespace Bowline.Proxy.Telemetry.Metrics;

/// <summary>
/// Istio's istio_tcp_* metrics for proxied TCP / TLS passthrough connections. A connection is recorded once, when it
/// closes: its final response flags are part of the series, and opened and closed then always land on the same series
/// (so opened − closed per series never counts a connection that moved between label sets). Long-lived connections
/// therefore show up at their close, not while open — Envoy reports them every 15 s, Bowline does not yet.
/// </summary>
internal sealed class TcpMetricsObserver(ProxyMetrics metrics) : ITcpConnectionObserver
{
    public void OnTcpConnectionOpened(TcpConnectionRecord connection)
    {
    }

    public void OnTcpConnectionClosed(TcpConnectionRecord connection)
    {
        if (connection.ListenerConfig is not { } listener)
        {
            return;
        }

        var series = metrics.Tcp(listener, connection.ClusterConfig, connection.Endpoint, connection.Flags);
        series.Opened();
        series.Received(connection.ReceivedBytes);
        series.Sent(connection.SentBytes);
        series.Closed();
    }
}
