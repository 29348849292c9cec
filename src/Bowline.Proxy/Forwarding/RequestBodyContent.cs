using System.Net;
using Bowline.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Forwarding;

/// <summary>
/// Streams the downstream request body upstream as HttpClient asks for it — never buffered — and remembers whether
/// it began reading, since a retry is only possible while the body is untouched.
/// </summary>
internal sealed class RequestBodyContent(HttpRequest request, ProxyRequestFeature? feature = null) : HttpContent
{
    private int _started;

    public bool Started => Volatile.Read(ref _started) != 0;

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _started, 1);
        // A body of known length is measured by its Content-Length; others, and gRPC bodies (whose messages are counted),
        // are counted as they stream (metrics).
        return feature is null || (request.ContentLength is not null && !BodyCounter.IsGrpc(request.ContentType))
            ? request.Body.CopyToAsync(stream, cancellationToken)
            : BodyCounter.CopyAsync(request.Body, stream, feature, isResponse: false, cancellationToken);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
