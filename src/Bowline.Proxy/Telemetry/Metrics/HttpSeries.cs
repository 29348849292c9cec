using System.Text;

namespace Bowline.Proxy.Telemetry.Metrics;

/// <summary>
/// One label set of the HTTP/gRPC metrics: istio_requests_total, the three histograms and the gRPC message counters,
/// all in one <see cref="StripedCells"/>. Recording is a handful of interlocked adds on the calling core's stripe.
/// </summary>
internal sealed class HttpSeries(string labels)
{
    private const int Requests = 0;
    private const int Duration = 1; // DurationMs.Length + 1 buckets, then the sum (µs)
    private static readonly int DurationSum = Duration + Buckets.DurationMs.Length + 1;
    private static readonly int RequestBytes = DurationSum + 1;
    private static readonly int RequestBytesSum = RequestBytes + Buckets.Bytes.Length + 1;
    private static readonly int ResponseBytes = RequestBytesSum + 1;
    private static readonly int ResponseBytesSum = ResponseBytes + Buckets.Bytes.Length + 1;
    private static readonly int RequestMessages = ResponseBytesSum + 1;
    private static readonly int ResponseMessages = RequestMessages + 1;
    private static readonly int CellCount = ResponseMessages + 1;

    private readonly StripedCells _cells = new(CellCount);

    /// <summary>The whole label set, rendered once when the series is created.</summary>
    public string Labels { get; } = labels;

    public void Record(double durationMs, long requestBytes, long responseBytes, long requestMessages, long responseMessages)
    {
        var stripe = _cells.Stripe;
        _cells.Increment(stripe, Requests);
        _cells.Increment(stripe, Duration + Buckets.IndexOf(Buckets.DurationMs, durationMs));
        _cells.Add(stripe, DurationSum, (long)(durationMs * 1000));
        _cells.Increment(stripe, RequestBytes + Buckets.IndexOf(Buckets.Bytes, requestBytes));
        _cells.Add(stripe, RequestBytesSum, requestBytes);
        _cells.Increment(stripe, ResponseBytes + Buckets.IndexOf(Buckets.Bytes, responseBytes));
        _cells.Add(stripe, ResponseBytesSum, responseBytes);
        if (requestMessages > 0)
        {
            _cells.Add(stripe, RequestMessages, requestMessages);
        }

        if (responseMessages > 0)
        {
            _cells.Add(stripe, ResponseMessages, responseMessages);
        }
    }

    public long RequestCount => _cells.Read(Requests);

    public void WriteRequests(StringBuilder text) => PrometheusText.Sample(text, "istio_requests_total", Labels, _cells.Read(Requests));

    public void WriteDuration(StringBuilder text) =>
        WriteHistogram(text, "istio_request_duration_milliseconds", Buckets.DurationMs, Duration, DurationSum, 1000.0);

    public void WriteRequestBytes(StringBuilder text) => WriteHistogram(text, "istio_request_bytes", Buckets.Bytes, RequestBytes, RequestBytesSum, 1);

    public void WriteResponseBytes(StringBuilder text) => WriteHistogram(text, "istio_response_bytes", Buckets.Bytes, ResponseBytes, ResponseBytesSum, 1);

    public void WriteRequestMessages(StringBuilder text) => PrometheusText.Sample(text, "istio_request_messages_total", Labels, _cells.Read(RequestMessages));

    public void WriteResponseMessages(StringBuilder text) => PrometheusText.Sample(text, "istio_response_messages_total", Labels, _cells.Read(ResponseMessages));

    private void WriteHistogram(StringBuilder text, string name, double[] bounds, int first, int sumCell, double sumDivisor)
    {
        // Cumulative counts from the bucket cells themselves, so _count always equals the +Inf bucket.
        long cumulative = 0;
        var prefix = Labels.Length == 0 ? "" : Labels + ",";
        for (var i = 0; i <= bounds.Length; i++)
        {
            cumulative += _cells.Read(first + i);
            var le = i < bounds.Length ? PrometheusText.Number(bounds[i]) : "+Inf";
            PrometheusText.Sample(text, name + "_bucket", prefix + "le=\"" + le + "\"", cumulative);
        }

        PrometheusText.Sample(text, name + "_sum", Labels, _cells.Read(sumCell) / sumDivisor);
        PrometheusText.Sample(text, name + "_count", Labels, cumulative);
    }
}
