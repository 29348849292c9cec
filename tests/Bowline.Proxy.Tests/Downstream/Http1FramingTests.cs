using System.Security.Cryptography;
using System.Text;

namespace Bowline.Proxy.Tests.Downstream;

/// <summary>
/// Message framing both ways through a plaintext listener: request bodies reach the upstream byte-exact whatever their
/// framing, and responses reach the client framed so that a strict parser reads exactly the upstream's body.
/// </summary>
public sealed class Http1FramingTests
{
    [Fact]
    public async Task GetWithoutBody_UpstreamGetsNoBodyAndNoFraming()
    {
        await using var rig = await DownstreamRig.InboundAsync();
        await using var client = await rig.ConnectAsync();

        await client.SendAsync("GET /g HTTP/1.1\r\nHost: a\r\n\r\n");

        var response = await client.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 200 OK", response.StatusLine);
        Assert.Equal("/g|0", response.BodyText);
        Assert.Equal("content-length", response.Framing);
        var only = rig.Only();
        Assert.Equal("GET /g HTTP/1.1", only.Request.RequestLine);
        Assert.Empty(only.Body);
        Assert.Empty(only.Request.Lines("Content-Length"));
        Assert.Empty(only.Request.Lines("Transfer-Encoding"));
    }

    [Fact]
    public async Task PostWithContentLength_UpstreamGetsTheExactBytesWithTheirLength()
    {
        await using var rig = await DownstreamRig.InboundAsync();
        await using var client = await rig.ConnectAsync();

        // CR, LF and a would-be request inside the body: bytes, not syntax.
        const string body = "a\r\nb\0\r\n\r\nGET /x HTTP/1.1\r\n\r\n";
        await client.SendAsync($"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: {body.Length}\r\n\r\n{body}");

        var response = await client.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 200 OK", response.StatusLine);
        var only = rig.Only();
        Assert.Equal(body, only.BodyText);
        Assert.Equal(body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), only.Request.Single("Content-Length"));
        Assert.Single(rig.Upstream.Requests);
    }

    [Fact]
    public async Task PostChunked_UpstreamGetsTheSameBodyBytes()
    {
        await using var rig = await DownstreamRig.InboundAsync();
        await using var client = await rig.ConnectAsync();

        await client.SendAsync("POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "1\r\na\r\n10\r\n0123456789abcdef\r\n3\r\n\r\n\n\r\n0\r\n\r\n");

        var response = await client.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 200 OK", response.StatusLine);
        Assert.Equal("/p|20", response.BodyText);
        Assert.Equal("a0123456789abcdef\r\n\n", rig.Only().BodyText);
    }

    [Fact]
    public async Task ContentLengthZero_UpstreamGetsAnEmptyBody_NextRequestIntact()
    {
        await using var rig = await DownstreamRig.InboundAsync();
        await using var client = await rig.ConnectAsync();

        await client.SendAsync("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Equal("/p|0", (await client.ReadResponseAsync()).BodyText);
        Assert.Equal("/next|0", (await client.ReadResponseAsync()).BodyText);
        Assert.Collection(rig.Received,
            r =>
            {
                Assert.Equal("POST /p HTTP/1.1", r.Request.RequestLine);
                Assert.Empty(r.Body);
                Assert.Empty(r.Request.Lines("Transfer-Encoding"));
            },
            r => Assert.Equal("GET /next HTTP/1.1", r.Request.RequestLine));
    }

    [Theory]
    [InlineData(64 * 1024, false)]
    [InlineData(64 * 1024, true)]
    [InlineData(3 * 1024 * 1024, false)]
    [InlineData(3 * 1024 * 1024, true)]
    public async Task LargeBody_ReachesTheUpstreamByteExact(int size, bool chunked)
    {
        var payload = RandomNumberGenerator.GetBytes(size);
        await using var rig = await DownstreamRig.InboundAsync();
        await using var client = await rig.ConnectAsync();

        if (chunked)
        {
            await client.SendAsync($"POST /big HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
            // Uneven chunks, the last one partial.
            for (var offset = 0; offset < size; offset += 50_000)
            {
                var n = Math.Min(50_000, size - offset);
                await client.SendAsync([.. Encoding.ASCII.GetBytes($"{n:x}\r\n"), .. payload.AsSpan(offset, n), .. "\r\n"u8]);
            }

            await client.SendAsync("0\r\n\r\n");
        }
        else
        {
            await client.SendAsync($"POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: {size}\r\n\r\n");
            await client.SendAsync(payload);
        }

        var response = await client.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 200 OK", response.StatusLine);
        Assert.Equal($"/big|{size}", response.BodyText);
        Assert.Equal(SHA256.HashData(payload), SHA256.HashData(rig.Only().Body));
    }

    /// <summary>Today: the server answers "100 Continue" itself before the body is sent; the upstream never sees Expect.</summary>
    [Fact]
    public async Task Expect100Continue_InterimBeforeTheBody_ThenTheFinalResponse()
    {
        await using var rig = await DownstreamRig.InboundAsync();
        await using var client = await rig.ConnectAsync();

        await client.SendAsync("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
        // Read before sending the body: a server that waits for the body instead fails on the hang guard.
        var interim = await client.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 100 Continue", interim.StatusLine);
        Assert.Empty(interim.Fields);
        await client.SendAsync("hello");

        var final = await client.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 200 OK", final.StatusLine);
        Assert.Equal("/p|5", final.BodyText);
        var only = rig.Only();
        Assert.Equal("hello", only.BodyText);
        Assert.Empty(only.Request.Lines("Expect"));
    }

    [Fact]
    public async Task Head_ResponseKeepsTheUpstreamsContentLength_NoBodyBytes_NextResponseIntact()
    {
        await using var rig = await DownstreamRig.InboundAsync((e, _) => e.Request.RequestLine.StartsWith("HEAD ", StringComparison.Ordinal)
            ? e.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n")
            : e.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext"));
        await using var client = await rig.ConnectAsync();

        await client.SendAsync("HEAD /h HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n");

        var head = await client.ReadResponseAsync("HEAD");
        Assert.Equal("HTTP/1.1 200 OK", head.StatusLine);
        Assert.Equal("1234", head.Single("Content-Length"));
        // Any body byte after the HEAD answer would be read here as the next status line.
        var next = await client.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 200 OK", next.StatusLine);
        Assert.Equal("next", next.BodyText);
        Assert.Equal("HEAD /h HTTP/1.1", rig.Received[0].Request.RequestLine);
    }

    [Theory]
    [InlineData("HTTP/1.1 204 No Content\r\nx-a: 1\r\n\r\n", "HTTP/1.1 204 No Content")]
    [InlineData("HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n", "HTTP/1.1 304 Not Modified")]
    public async Task NoBodyStatus_ForwardedWithoutBodyOrChunkedFraming_NextResponseIntact(string upstreamHead, string statusLine)
    {
        await using var rig = await DownstreamRig.InboundAsync((e, _) => e.Request.RequestLine.StartsWith("GET /empty", StringComparison.Ordinal)
            ? e.WriteAsync(upstreamHead)
            : e.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext"));
        await using var client = await rig.ConnectAsync();

        await client.SendAsync("GET /empty HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n");

        var empty = await client.ReadResponseAsync();
        Assert.Equal(statusLine, empty.StatusLine);
        Assert.Empty(empty.Lines("Transfer-Encoding"));
        Assert.Empty(empty.Lines("Content-Length"));
        var next = await client.ReadResponseAsync();
        Assert.Equal("next", next.BodyText);
    }

    [Fact]
    public async Task UpstreamChunkedResponse_ClientGetsACorrectlyFramedIdenticalBody()
    {
        await using var rig = await DownstreamRig.InboundAsync((e, _) => e.Request.RequestLine.StartsWith("GET /chunked", StringComparison.Ordinal)
            ? e.WriteAsync("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n \r\nB\r\n0123456789\n\r\n0\r\n\r\n")
            : e.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext"));
        await using var client = await rig.ConnectAsync();

        await client.SendAsync("GET /chunked HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n");

        var response = await client.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 200 OK", response.StatusLine);
        Assert.Equal("hello 0123456789\n", response.BodyText);
        Assert.Equal("chunked", response.Framing);
        Assert.Equal("next", (await client.ReadResponseAsync()).BodyText);
    }

    /// <summary>The upstream delimits by closing; the client gets the whole body (today: re-framed chunked, connection kept).</summary>
    [Fact]
    public async Task UpstreamCloseDelimitedResponse_ClientGetsTheWholeBody()
    {
        var payload = RandomNumberGenerator.GetBytes(200_000);
        await using var rig = await DownstreamRig.InboundAsync(async (e, _) =>
        {
            if (e.Request.RequestLine.StartsWith("GET /eof", StringComparison.Ordinal))
            {
                await e.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n");
                await e.WriteAsync(payload);
                e.Connection.Close();
            }
            else
            {
                await e.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext");
            }
        });
        await using var client = await rig.ConnectAsync();

        await client.SendAsync("GET /eof HTTP/1.1\r\nHost: a\r\n\r\n");

        var response = await client.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 200 OK", response.StatusLine);
        Assert.Equal(SHA256.HashData(payload), SHA256.HashData(response.Body));
        Assert.Equal("chunked", response.Framing);
        await client.SendAsync("GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal("next", (await client.ReadResponseAsync()).BodyText);
    }

    /// <summary>HTTP/1.0 has no chunked coding: an upstream's chunked body reaches an HTTP/1.0 client delimited by the close.</summary>
    [Fact]
    public async Task Http10Client_UpstreamChunkedResponse_DeliveredWithoutChunkedFraming()
    {
        await using var rig = await DownstreamRig.InboundAsync((e, _) =>
            e.WriteAsync("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
        await using var client = await rig.ConnectAsync();

        await client.SendAsync("GET /old HTTP/1.0\r\nHost: a\r\n\r\n");

        var response = await client.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 200 OK", response.StatusLine);
        Assert.Empty(response.Lines("Transfer-Encoding"));
        Assert.Equal("hello world", response.BodyText);
        Assert.Equal("", await client.ReadToEndAsync());
    }

    /// <summary>
    /// The fixed hop-by-hop names are dropped, and so is every field the upstream's Connection lists (RFC 9110 §7.6.1),
    /// whichever client (Bowline's own or HttpClient, for clusters with connectionPool settings) brought the response.
    /// </summary>
    [Theory]
    [InlineData("x-bar", false)]
    [InlineData("keep-alive, X-Bar", false)]
    [InlineData("x-bar", true)]
    [InlineData("keep-alive, X-Bar", true)]
    public async Task UpstreamHopByHopResponseFields_NotForwardedToTheClient(string connection, bool httpClient)
    {
        Func<Http1.RawExchange, byte[], Task> answer = (e, _) => e.WriteAsync($"HTTP/1.1 200 OK\r\nConnection: {connection}\r\nx-bar: 1\r\n"
            + "Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nx-keep: y\r\nContent-Length: 2\r\n\r\nok");
        await using var rig = httpClient ? await DownstreamRig.InboundThroughHttpClientAsync(answer) : await DownstreamRig.InboundAsync(answer);
        await using var client = await rig.ConnectAsync();

        await client.SendAsync("GET /p HTTP/1.1\r\nHost: a\r\n\r\n");

        var response = await client.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 200 OK", response.StatusLine);
        Assert.Equal("ok", response.BodyText);
        Assert.Empty(response.Lines("Connection"));
        Assert.Empty(response.Lines("x-bar"));
        Assert.Empty(response.Lines("Keep-Alive"));
        Assert.Empty(response.Lines("Proxy-Connection"));
        Assert.Equal("y", response.Single("x-keep"));
    }
}
