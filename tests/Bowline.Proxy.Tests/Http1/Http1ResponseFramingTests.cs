using System.Net;
using System.Security.Cryptography;
using System.Text;
using Bowline.Proxy.Tests.Infrastructure;

namespace Bowline.Proxy.Tests.Http1;

/// <summary>How Bowline's HTTP/1.1 client delimits upstream response bodies, each framing from a raw upstream.</summary>
public sealed class Http1ResponseFramingTests
{
    private static async Task<(HttpStatusCode Status, byte[] Body, HttpResponseMessage Response)> GetAsync(HttpClient client, Uri uri, HttpMethod? method = null)
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, uri);
        var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsByteArrayAsync(), response);
    }

    [Fact]
    public async Task ContentLengthBody_DeliveredWithItsLength_ConnectionReused()
    {
        await using var upstream = RawUpstream.Start(e => e.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world"));
        await using var proxy = await Http1Proxy.InboundAsync(upstream.Port);
        using var client = Clients.Direct();

        for (var i = 0; i < 3; i++)
        {
            var (status, body, response) = await GetAsync(client, proxy.InboundUri("/"));
            using (response)
            {
                Assert.Equal(HttpStatusCode.OK, status);
                Assert.Equal("hello world", Encoding.ASCII.GetString(body));
                Assert.Equal(11, response.Content.Headers.ContentLength);
            }
        }

        Assert.Equal(1, upstream.Accepted);
    }

    [Fact]
    public async Task ChunkedBodyWithExtensionsAndTrailers_BodyIntact_TrailersDroppedForHttp11_ConnectionReused()
    {
        await using var upstream = RawUpstream.Start(e => e.WriteAsync(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-checksum\r\n\r\n"
            + "5;name=value\r\nhello\r\n1;a;b=\"q\"\r\n \r\nA\r\n0123456789\r\n0;last\r\nx-checksum: abc\r\nx-other: 1\r\n\r\n"));
        await using var proxy = await Http1Proxy.InboundAsync(upstream.Port);
        using var client = Clients.Direct();

        for (var i = 0; i < 2; i++)
        {
            var (status, body, response) = await GetAsync(client, proxy.InboundUri("/"));
            using (response)
            {
                Assert.Equal(HttpStatusCode.OK, status);
                Assert.Equal("hello 0123456789", Encoding.ASCII.GetString(body));
                Assert.Empty(response.TrailingHeaders);
                Assert.False(response.Headers.Contains("x-checksum"));
            }
        }

        Assert.Equal(1, upstream.Accepted);
    }

    [Fact]
    public async Task CloseDelimitedBody_DeliveredWhole_ConnectionNotReused()
    {
        var payload = RandomNumberGenerator.GetBytes(200_000);
        await using var upstream = RawUpstream.Start(async e =>
        {
            await e.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n");
            await e.WriteAsync(payload);
            e.Connection.Close();
        });
        await using var proxy = await Http1Proxy.InboundAsync(upstream.Port);
        using var client = Clients.Direct();

        for (var i = 0; i < 2; i++)
        {
            var (status, body, response) = await GetAsync(client, proxy.InboundUri("/"));
            response.Dispose();
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(SHA256.HashData(payload), SHA256.HashData(body));
        }

        Assert.Equal(2, upstream.Accepted);
        Assert.All(upstream.Requests, r => Assert.Equal(1, r.IndexOnConnection));
    }

    [Fact]
    public async Task HeadResponseWithContentLength_NoBodyRead_NextRequestOnTheSameConnectionIntact()
    {
        await using var upstream = RawUpstream.Start(e => e.Request.RequestLine.StartsWith("HEAD ", StringComparison.Ordinal)
            ? e.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n")
            : e.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nget"));
        await using var proxy = await Http1Proxy.InboundAsync(upstream.Port);
        using var client = Clients.Direct();

        var (headStatus, headBody, headResponse) = await GetAsync(client, proxy.InboundUri("/"), HttpMethod.Head);
        using (headResponse)
        {
            Assert.Equal(HttpStatusCode.OK, headStatus);
            Assert.Empty(headBody);
            Assert.Equal(1234, headResponse.Content.Headers.ContentLength);
        }

        var (status, body, response) = await GetAsync(client, proxy.InboundUri("/"));
        response.Dispose();
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("get", Encoding.ASCII.GetString(body));
        Assert.Equal(1, upstream.Accepted);
    }

    [Theory]
    [InlineData("HTTP/1.1 204 No Content\r\nx-a: 1\r\n\r\n", HttpStatusCode.NoContent)]
    [InlineData("HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n", HttpStatusCode.NotModified)]
    public async Task NoBodyStatus_AnsweredWithoutBody_ConnectionReused(string head, HttpStatusCode expected)
    {
        await using var upstream = RawUpstream.Start(e => e.Request.RequestLine.StartsWith("GET /empty", StringComparison.Ordinal)
            ? e.WriteAsync(head)
            : e.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext"));
        await using var proxy = await Http1Proxy.InboundAsync(upstream.Port);
        using var client = Clients.Direct();

        var (status, body, response) = await GetAsync(client, proxy.InboundUri("/empty"));
        response.Dispose();
        Assert.Equal(expected, status);
        Assert.Empty(body);

        (status, body, response) = await GetAsync(client, proxy.InboundUri("/next"));
        response.Dispose();
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("next", Encoding.ASCII.GetString(body));
        Assert.Equal(1, upstream.Accepted);
    }

    [Fact]
    public async Task InterimResponses100And103_SkippedBeforeTheFinalResponse()
    {
        await using var upstream = RawUpstream.Start(e => e.WriteAsync(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
            + "HTTP/1.1 201 Created\r\nx-final: yes\r\nContent-Length: 5\r\n\r\nfinal"));
        await using var proxy = await Http1Proxy.InboundAsync(upstream.Port);
        using var client = Clients.Direct();

        var (status, body, response) = await GetAsync(client, proxy.InboundUri("/"));
        using (response)
        {
            Assert.Equal(HttpStatusCode.Created, status);
            Assert.Equal("final", Encoding.ASCII.GetString(body));
            Assert.Equal("yes", ProxyForwardingTests.Header(response, "x-final"));
            Assert.False(response.Headers.Contains("Link"));
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task BodyInManySmallDelayedWrites_DeliveredIntact(bool chunked)
    {
        var payload = RandomNumberGenerator.GetBytes(3000);
        var wire = chunked ? Chunk(payload, 97, "x-t: 1\r\n") : Concat(Encoding.ASCII.GetBytes($"Content-Length: {payload.Length}\r\n\r\n"), payload);
        var head = Encoding.ASCII.GetBytes(chunked ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" : "HTTP/1.1 200 OK\r\n");
        await using var upstream = RawUpstream.Start(async e =>
        {
            // Head and body in pieces of 1..13 bytes, each its own TCP segment (NoDelay), with a pause now and then,
            // so size lines, CRLFs and the head's end all arrive split.
            var all = Concat(head, wire);
            for (int i = 0, piece = 0; i < all.Length; piece++)
            {
                var n = Math.Min(1 + (piece * 7 % 13), all.Length - i);
                await e.WriteAsync(all[i..(i + n)]);
                i += n;
                if (piece % 25 == 0)
                {
                    await Task.Delay(1);
                }
            }
        });
        await using var proxy = await Http1Proxy.InboundAsync(upstream.Port);
        using var client = Clients.Direct();

        for (var i = 0; i < 2; i++)
        {
            var (status, body, response) = await GetAsync(client, proxy.InboundUri("/"));
            response.Dispose();
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(payload, body);
        }

        Assert.Equal(1, upstream.Accepted);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task LargeBody8MB_DeliveredIntact(bool chunked)
    {
        var payload = RandomNumberGenerator.GetBytes(8 * 1024 * 1024);
        var encoded = chunked ? Chunk(payload, 100_003, "") : payload;
        await using var upstream = RawUpstream.Start(async e =>
        {
            await e.WriteAsync(chunked ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" : $"HTTP/1.1 200 OK\r\nContent-Length: {payload.Length}\r\n\r\n");
            await e.WriteAsync(encoded);
        });
        await using var proxy = await Http1Proxy.InboundAsync(upstream.Port);
        using var client = Clients.Direct();

        var (status, body, response) = await GetAsync(client, proxy.InboundUri("/"));
        response.Dispose();
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(payload.Length, body.Length);
        Assert.Equal(SHA256.HashData(payload), SHA256.HashData(body));
    }

    [Fact]
    public async Task ChunkedAndContentLengthTogether_ChunkedFramingWins_ConnectionStillInSync()
    {
        await using var upstream = RawUpstream.Start(e => e.WriteAsync(
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nchunks\r\n0\r\n\r\n"));
        await using var proxy = await Http1Proxy.InboundAsync(upstream.Port);
        using var client = Clients.Direct();

        for (var i = 0; i < 2; i++)
        {
            var (status, body, response) = await GetAsync(client, proxy.InboundUri("/"));
            response.Dispose();
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("chunks", Encoding.ASCII.GetString(body));
        }

        Assert.Equal(1, upstream.Accepted);
    }

    [Fact]
    public async Task BytesAfterTheBody_ConnectionNotReused()
    {
        // One write: the stray bytes arrive with the response, so the proxy sees them when the body ends.
        await using var upstream = RawUpstream.Start(e => e.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n"));
        await using var proxy = await Http1Proxy.InboundAsync(upstream.Port);
        using var client = Clients.Direct();

        for (var i = 0; i < 2; i++)
        {
            var (status, body, response) = await GetAsync(client, proxy.InboundUri("/"));
            response.Dispose();
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("ok", Encoding.ASCII.GetString(body));
        }

        Assert.Equal(2, upstream.Accepted);
    }

    /// <summary>Chunked coding of <paramref name="payload"/> in chunks of <paramref name="size"/>, then the last chunk and trailers.</summary>
    internal static byte[] Chunk(byte[] payload, int size, string trailers)
    {
        using var wire = new MemoryStream();
        for (var i = 0; i < payload.Length; i += size)
        {
            var n = Math.Min(size, payload.Length - i);
            wire.Write(Encoding.ASCII.GetBytes($"{n:x}\r\n"));
            wire.Write(payload, i, n);
            wire.Write("\r\n"u8);
        }

        wire.Write(Encoding.ASCII.GetBytes($"0\r\n{trailers}\r\n"));
        return wire.ToArray();
    }

    private static byte[] Concat(byte[] a, byte[] b) => [.. a, .. b];
}
