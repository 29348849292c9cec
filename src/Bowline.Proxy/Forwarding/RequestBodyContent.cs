using System.Net;
using Bowline.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Forwarding;

/// <summary>
/// Streams the downstream request body upstream as HttpClient asks for it — never waiting for the whole body — and
/// remembers whether it began reading. With a <see cref="RequestBodyReplay"/> (routes with retries) the first bytes
/// are also kept, so a later try can send them again: Envoy's retry buffer.
/// </summary>
internal sealed class RequestBodyContent(HttpRequest request, RequestBodyReplay? replay = null, ProxyRequestFeature? feature = null) : HttpContent
{
    private int _started;
    private Stream? _counted;

    public bool Started => Volatile.Read(ref _started) != 0;

    /// <summary>Whether a try after this one can still send the whole body (nothing read is lost).</summary>
    public bool Replayable => replay?.CanReplay == true;

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _started, 1);
        // A body of known length is measured by its Content-Length; others, and gRPC bodies (whose messages are counted),
        // are counted as they are read from downstream (metrics) — once, however many tries send them.
        var body = feature is null || (request.ContentLength is not null && !BodyCounter.IsGrpc(request.ContentType))
            ? request.Body
            : _counted ??= new BodyCounter.CountingReadStream(request.Body, feature);
        return replay is null ? CopyFlushingAsync(body, stream, null, cancellationToken) : replay.SendAsync(body, stream, cancellationToken);
    }

    /// <summary>
    /// Each piece goes out as it arrives: HttpClient's upstream streams buffer writes until flushed, and a gRPC client
    /// or bidi stream waits on the answer to the message it just sent.
    /// </summary>
    internal static async Task CopyFlushingAsync(Stream from, Stream to, RequestBodyReplay? keep, CancellationToken cancellationToken)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            // HTTP/2 holds the request headers back until the body's first flush; a bidi stream whose server speaks
            // first must not wait for the client's first message to be seen at all.
            await to.FlushAsync(cancellationToken);
            int read;
            while ((read = await ReadDownstreamAsync(from, buffer, cancellationToken)) > 0)
            {
                // Kept before it is sent: whatever this try consumed, the next one can send again.
                keep?.Keep(buffer.AsSpan(0, read));
                await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                await to.FlushAsync(cancellationToken);
            }

            keep?.Ended();
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A read of the client's body; its failure is marked as the client's (<see cref="DownstreamBodyException"/>).</summary>
    private static async ValueTask<int> ReadDownstreamAsync(Stream from, byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await from.ReadAsync(buffer, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new DownstreamBodyException(e);
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
