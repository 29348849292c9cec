using System.Text;

namespace Bowline.Proxy.Telemetry.Metrics;

/// <summary>
/// One label set of Istio's TCP metrics. The recording API for TCP proxying (see <see cref="ProxyMetrics.Tcp"/>):
/// resolve the series once per connection, then call <see cref="Opened"/> when the upstream connection is
/// established, <see cref="Received"/> / <see cref="Sent"/> as bytes are copied (any granularity, e.g. per read),
/// and <see cref="Closed"/> once when the connection ends. All of them are lock- and allocation-free.
/// </summary>
internal sealed class TcpSeries(string labels)
{
    private const int OpenedCell = 0;
    private const int ClosedCell = 1;
    private const int SentCell = 2;
    private const int ReceivedCell = 3;

    private readonly StripedCells _cells = new(4);

    public string Labels { get; } = labels;

    public void Opened() => _cells.Increment(_cells.Stripe, OpenedCell);

    public void Closed() => _cells.Increment(_cells.Stripe, ClosedCell);

    /// <summary>Bytes sent to the downstream peer (istio_tcp_sent_bytes_total: the response direction).</summary>
    public void Sent(long bytes) => _cells.Add(_cells.Stripe, SentCell, bytes);

    /// <summary>Bytes received from the downstream peer (istio_tcp_received_bytes_total: the request direction).</summary>
    public void Received(long bytes) => _cells.Add(_cells.Stripe, ReceivedCell, bytes);

    public void Write(StringBuilder text, string name)
    {
        var cell = name switch
        {
            "istio_tcp_connections_opened_total" => OpenedCell,
            "istio_tcp_connections_closed_total" => ClosedCell,
            "istio_tcp_sent_bytes_total" => SentCell,
            _ => ReceivedCell,
        };
        PrometheusText.Sample(text, name, Labels, _cells.Read(cell));
    }
}
