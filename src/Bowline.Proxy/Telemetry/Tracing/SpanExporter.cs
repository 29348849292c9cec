using System.Net.Http.Headers;
using System.Threading.Channels;
using Bowline.Api.Xds;

namespace Bowline.Proxy.Telemetry.Tracing;

/// <summary>
/// Sends finished spans to the collector off the request path: requests hand spans to a bounded queue (a full queue
/// drops and counts), one background task takes whatever has queued up — at most <see cref="MaxBatch"/> — and POSTs
/// it as one batch. A failed POST drops its batch (counted); the collector is telemetry, never worth a retry storm.
/// </summary>
internal sealed class SpanExporter : IAsyncDisposable
{
    public const int Capacity = 4096;
    public const int MaxBatch = 512;

    private readonly Channel<(SpanData Span, TracingProvider Provider, string Endpoint)> _queue =
        Channel.CreateBounded<(SpanData, TracingProvider, string)>(new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly HttpClient _client;
    private readonly Task _drain;
    private long _exported;
    private long _dropped;
    private long _failed;

    public SpanExporter(HttpMessageHandler? handler = null)
    {
        // Never through a proxy, and never traced itself.
        _client = new HttpClient(handler ?? new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(5) })
        {
            Timeout = TimeSpan.FromSeconds(10),
        };
        _drain = Task.Run(DrainAsync);
    }

    public long Exported => Interlocked.Read(ref _exported);
    public long Dropped => Interlocked.Read(ref _dropped);
    public long Failed => Interlocked.Read(ref _failed);

    public void Enqueue(SpanData span, TracingConfig config)
    {
        if (!_queue.Writer.TryWrite((span, config.Provider, config.Endpoint)))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    private async Task DrainAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<(SpanData Span, TracingProvider Provider, string Endpoint)>(MaxBatch);
        while (await reader.WaitToReadAsync())
        {
            while (batch.Count < MaxBatch && reader.TryRead(out var item))
            {
                batch.Add(item);
            }

            // A config change may switch the collector mid-batch: one POST per destination.
            foreach (var group in batch.GroupBy(i => (i.Provider, i.Endpoint)))
            {
                var spans = group.Select(i => i.Span).ToList();
                await SendAsync(group.Key.Provider, group.Key.Endpoint, spans);
            }

            batch.Clear();
        }
    }

    private async Task SendAsync(TracingProvider provider, string endpoint, List<SpanData> spans)
    {
        var body = provider == TracingProvider.Zipkin ? SpanEncoding.Zipkin(spans) : SpanEncoding.Otlp(spans);
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        try
        {
            using var response = await _client.PostAsync(endpoint, content);
            if (response.IsSuccessStatusCode)
            {
                Interlocked.Add(ref _exported, spans.Count);
                return;
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException)
        {
            // Counted below: the collector is down, slow or unreachable.
        }

        Interlocked.Add(ref _failed, spans.Count);
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _drain;
        _client.Dispose();
    }
}
