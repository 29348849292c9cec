using Bowline.Proxy.Forwarding;
using Bowline.Proxy.LoadBalancing;
using Bowline.Proxy.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Bowline.Proxy.Pipeline;

/// <summary>
/// Envoy's request mirroring: after route choice, before forwarding, each drawn mirror policy gets a fire-and-forget
/// copy of the request with "-shadow" appended to its authority's host. The copy is never awaited and its answer is
/// discarded, so a slow or failing mirror cannot delay or fail the real request; its outcome is only counted.
/// </summary>
internal sealed class MirrorFilter(Forwarder forwarder, IRandomSource random)
{
    /// <summary>Largest body copied: it is buffered once for the real request and every copy.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    // Envoy gives shadow requests the route timeout; Istio leaves routes without one, so bound the copy ourselves
    // rather than let a hung mirror hold a connection forever.
    private static readonly TimeSpan DefaultMirrorTimeout = TimeSpan.FromSeconds(15);

    /// <summary>Draws every policy and starts the drawn copies; returns once they are started, never when they finish.</summary>
    public async Task StartAsync(HttpContext context, CompiledRoute route, string target, CompiledHeaderPolicy? destinationHeaders)
    {
        CompiledMirror[]? drawn = null;
        var count = 0;
        foreach (var mirror in route.Mirrors)
        {
            if (mirror.Draw(random))
            {
                drawn ??= new CompiledMirror[route.Mirrors.Length];
                drawn[count++] = mirror;
            }
        }

        if (drawn is null)
        {
            return;
        }

        var (mirrorable, body) = await BufferBodyAsync(context);
        if (!mirrorable)
        {
            return;
        }

        var method = HttpMethod.Parse(context.Request.Method);
        var timeout = route.Timeout ?? DefaultMirrorTimeout;
        for (var i = 0; i < count; i++)
        {
            var cluster = drawn[i].Cluster;
            var endpoint = cluster.PickEndpoint(null, random);
            if (endpoint is null)
            {
                cluster.Stats.RecordMirror(success: false);
                continue;
            }

            // Built now, on the request path: the HttpContext is recycled once the real request ends, the copy may not.
            var content = body is null ? null : new ByteArrayContent(body);
            var request = Forwarder.CreateRequest(context, method, cluster, endpoint, target, content, route, destinationHeaders);
            request.Headers.Host = ShadowAuthority(request.Headers.Host ?? "");
            _ = SendAsync(forwarder.ClientFor(cluster), request, cluster, endpoint, timeout);
        }
    }

    /// <summary>"reviews:9080" → "reviews-shadow:9080", "reviews" → "reviews-shadow" (Envoy's shadow host).</summary>
    internal static string ShadowAuthority(string authority)
    {
        var colon = authority.LastIndexOf(':');
        // A colon inside "[::1]" is part of the address, not a port separator.
        return colon > authority.LastIndexOf(']')
            ? string.Concat(authority.AsSpan(0, colon), "-shadow", authority.AsSpan(colon))
            : authority + "-shadow";
    }

    /// <summary>
    /// A small, fully known body is read once (at most <see cref="MaxBodyBytes"/>) and put back for the real request;
    /// a chunked or larger one keeps streaming upstream untouched and the request is not mirrored.
    /// </summary>
    private static async Task<(bool Mirrorable, byte[]? Body)> BufferBodyAsync(HttpContext context)
    {
        var request = context.Request;
        var canHaveBody = context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? request.ContentLength > 0;
        if (!canHaveBody || request.ContentLength == 0)
        {
            return (true, null);
        }

        if (request.ContentLength is not { } length || length > MaxBodyBytes)
        {
            return (false, null);
        }

        var buffer = new byte[length];
        try
        {
            await request.Body.ReadExactlyAsync(buffer, context.RequestAborted);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or BadHttpRequestException)
        {
            // Let the forwarder meet the failure as if it had read the body itself (400 for a bad body, client gone…).
            request.Body = new FailedBodyStream(e);
            return (false, null);
        }

        request.Body = new MemoryStream(buffer, writable: false);
        return (true, buffer);
    }

    private static async Task SendAsync(HttpMessageInvoker invoker, HttpRequestMessage request, CompiledCluster cluster, UpstreamEndpoint endpoint, TimeSpan timeout)
    {
        var tracks = cluster.TracksActiveRequests;
        if (tracks)
        {
            endpoint.BeginRequest();
        }

        var success = false;
        try
        {
            // Off the caller's path from here on: yield first so not even the connect runs on the request's thread.
            await Task.Yield();
            using var cts = new CancellationTokenSource(timeout);
            using var response = await invoker.SendAsync(request, cts.Token);
            // Drained, not just dropped, so an HTTP/1.1 connection goes back to the pool.
            await response.Content.CopyToAsync(Stream.Null, cts.Token);
            success = (int)response.StatusCode < 500;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
        {
            // Swallowed by design: a mirror's failure is counted, never surfaced.
        }
        finally
        {
            request.Dispose();
            if (tracks)
            {
                endpoint.EndRequest();
            }

            cluster.Stats.RecordMirror(success);
        }
    }

    /// <summary>Stands in for a body whose read failed: every read throws the original failure again.</summary>
    private sealed class FailedBodyStream(Exception failure) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw failure;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromException<int>(failure);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromException<int>(failure);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
