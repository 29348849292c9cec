using Bowline.Proxy.Pipeline;

namespace Bowline.Proxy.Tests.Downstream;

/// <summary>
/// Request smuggling and odd request heads on a plaintext listener, as today's downstream server (Kestrel, hardened)
/// handles them. Every rejected request is followed by a smuggled one in the same write: it must never reach the
/// upstream. Every accepted oddity is followed by a legitimate request: the upstream must see exactly the two requests
/// one framing implies, with the first body exact, so no second framing can hide a request.
/// (HardeningTests covers header-size limits, "bad name", a NUL in a value and a short chunk without a follow-up.)
/// </summary>
public sealed class Http1SmugglingTests
{
    private const string Smuggled = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";
    private const string Next = "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
    private const string BadRequest = "HTTP/1.1 400 Bad Request";

    /// <summary>Rejected while reading the head: the upstream never hears of the request.</summary>
    public static TheoryData<string, string, string> RejectedHeads() => new()
    {
        // Content-Length variants (RFC 9110 §8.6: 1*DIGIT; a list of equal values is allowed but Kestrel refuses it too).
        { "two different Content-Lengths", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde", BadRequest },
        { "two equal Content-Lengths", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", BadRequest },
        { "Content-Length list 1,2", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 1,2\r\n\r\nab", BadRequest },
        { "Content-Length list 3, 3", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc", BadRequest },
        { "Content-Length 0x5", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nabcde", BadRequest },
        { "Content-Length -1", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\nabcde", BadRequest },
        { "Content-Length beyond 64 bits", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\nabcde", BadRequest },
        // Transfer-Encoding whose final coding is not chunked, or unknown.
        { "Transfer-Encoding identity", "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n3\r\nabc\r\n0\r\n\r\n", BadRequest },
        { "Transfer-Encoding identity with Content-Length", "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\nContent-Length: 3\r\n\r\nabc", BadRequest },
        { "Transfer-Encoding chunked, gzip", "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n3\r\nabc\r\n0\r\n\r\n", BadRequest },
        { "Transfer-Encoding xchunked", "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", BadRequest },
        // Field syntax.
        { "obs-fold with a space", "GET /p HTTP/1.1\r\nHost: a\r\nx-a: 1\r\n folded\r\n\r\n", BadRequest },
        { "obs-fold with a tab", "GET /p HTTP/1.1\r\nHost: a\r\nx-a: 1\r\n\tfolded\r\n\r\n", BadRequest },
        { "first field line starts with a space", "GET /p HTTP/1.1\r\n Host: a\r\n\r\n", BadRequest },
        { "space between name and colon", "GET /p HTTP/1.1\r\nHost: a\r\nx-a : 1\r\n\r\n", BadRequest },
        { "Transfer-Encoding with a space before the colon", "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\nabc", BadRequest },
        { "bare CR in a value", "GET /p HTTP/1.1\r\nHost: a\r\nx-a: 1\r2\r\n\r\n", BadRequest },
        { "NUL in a value", "GET /p HTTP/1.1\r\nHost: a\r\nx-a: 1\0 2\r\n\r\n", BadRequest },
        { "obs-text (0xE9) in a value", "GET /p HTTP/1.1\r\nHost: a\r\nx-a: caf\u00e9\r\n\r\n", BadRequest },
        { "empty field name", "GET /p HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n", BadRequest },
        { "field line without a colon", "GET /p HTTP/1.1\r\nHost: a\r\nnocolon\r\n\r\n", BadRequest },
        { "two Host fields", "GET /p HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", BadRequest },
        { "Host with a space", "GET /p HTTP/1.1\r\nHost: a b\r\n\r\n", BadRequest },
        // Request line.
        { "two spaces after the method", "GET  /p HTTP/1.1\r\nHost: a\r\n\r\n", BadRequest },
        { "tab instead of a space", "GET\t/p HTTP/1.1\r\nHost: a\r\n\r\n", BadRequest },
        { "space after the version", "GET /p HTTP/1.1 \r\nHost: a\r\n\r\n", BadRequest },
        { "no version", "GET /p\r\nHost: a\r\n\r\n", BadRequest },
        { "invalid method token", "G(T /p HTTP/1.1\r\nHost: a\r\n\r\n", BadRequest },
        { "HTTP/1.2", "GET /p HTTP/1.2\r\nHost: a\r\n\r\n", "HTTP/1.1 505 HTTP Version Not Supported" },
        { "HTTP/2.0 in an HTTP/1 request line", "GET /p HTTP/2.0\r\nHost: a\r\n\r\n", "HTTP/1.1 505 HTTP Version Not Supported" },
        { "lowercase http/1.1", "GET /p http/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 505 HTTP Version Not Supported" },
        { "asterisk-form with GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 405 Method Not Allowed" },
    };

    [Theory]
    [MemberData(nameof(RejectedHeads))]
    public async Task RejectedHead_ExactStatusWithConnectionClose_Closed_NothingReachesTheUpstream(string name, string raw, string statusLine)
    {
        await using var rig = await DownstreamRig.InboundAsync();
        await using var client = await rig.ConnectAsync();

        await client.TrySendAsync(raw + Smuggled);

        var response = await client.ReadResponseAsync();
        Assert.Equal(statusLine, response.StatusLine);
        Assert.True(response.ConnectionHas("close"), name);
        Assert.Empty(response.Body);
        // Closed with nothing after the error: the smuggled request was never answered...
        Assert.Equal("", await client.ReadToEndAsync());
        // ...and neither it nor the bad request itself was forwarded.
        Assert.Empty(rig.Upstream.Requests);
    }

    /// <summary>
    /// A transfer coding other than chunked before the final chunked: Kestrel would decode the chunked framing only and
    /// the upstream would get, say, a gzip body nobody announced. Envoy's answer: 501, flag DPE, "Connection: close";
    /// nothing reaches the upstream, the smuggled request is never read.
    /// </summary>
    [Theory]
    [InlineData("gzip, chunked")]
    [InlineData("identity, chunked")]
    [InlineData("gzip\r\nTransfer-Encoding: chunked")]
    public async Task TransferCodingOtherThanChunked_501Dpe_Closed_NothingReachesTheUpstream(string codings)
    {
        await using var rig = await DownstreamRig.InboundAsync();
        await using var client = await rig.ConnectAsync();

        await client.TrySendAsync($"POST /p HTTP/1.1\r\nHost: a\r\nx-test-id: te\r\nTransfer-Encoding: {codings}\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + Smuggled);

        var response = await client.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 501 Not Implemented", response.StatusLine);
        Assert.True(response.ConnectionHas("close"));
        Assert.Empty(response.Body);
        Assert.Equal("", await client.ReadToEndAsync());
        Assert.Equal(ResponseFlags.DownstreamProtocolError, await rig.Proxy.FlagsOfAsync("te"));
        Assert.Empty(rig.Upstream.Requests);
    }

    /// <summary>
    /// Bad chunked framing, found while the body streams: the head may already be upstream, so the test demands only
    /// that no request completes there. The answer is Envoy's to a downstream protocol error: 400, flag DPE,
    /// "Connection: close", then the close.
    /// </summary>
    public static TheoryData<string, string> BadChunks() => new()
    {
        { "invalid char in a chunk size", "3g\r\nabc\r\n0\r\n\r\n" },
        { "0x prefix on a chunk size", "0x3\r\nabc\r\n0\r\n\r\n" },
        { "space after a chunk size", "3 \r\nabc\r\n0\r\n\r\n" },
        { "no CRLF after the chunk data", "3\r\nabcX0\r\n\r\n" },
        { "bare LF chunk lines", "3\nabc\n0\n\n" },
        { "bare CR in a chunk extension", "3;a\rb\r\nabc\r\n0\r\n\r\n" },
    };

    [Theory]
    [MemberData(nameof(BadChunks))]
    public async Task BadChunkedFraming_400_Closed_NoRequestCompletesUpstream(string name, string body)
    {
        await using var rig = await DownstreamRig.InboundAsync();
        await using var client = await rig.ConnectAsync();

        await client.TrySendAsync("POST /p HTTP/1.1\r\nHost: a\r\nx-test-id: bad\r\nTransfer-Encoding: chunked\r\n\r\n" + body + Smuggled);

        var response = await client.ReadResponseAsync();
        Assert.Equal(BadRequest, response.StatusLine);
        Assert.True(response.ConnectionHas("close"), name);
        Assert.Equal("", await client.ReadToEndAsync());
        Assert.Equal(ResponseFlags.DownstreamProtocolError, await rig.Proxy.FlagsOfAsync("bad"));
        Assert.Empty(rig.Received);
        Assert.DoesNotContain(rig.Upstream.Requests, r => r.RequestLine.Contains("/smuggled", StringComparison.Ordinal));
        Assert.True(rig.Upstream.Requests.Count <= 1, name);
    }

    /// <summary>
    /// A chunk size that overflows 64 bits, found once the head is upstream (Kestrel reports it as an IOException rather
    /// than a bad request). It is the client's protocol error, whichever upstream client carries the request: 400 with
    /// flag DPE, "Connection: close" and the close — not a 503 blaming the upstream. No request completes upstream and
    /// nothing is smuggled.
    /// </summary>
    [Theory]
    [InlineData("ffffffffffffffffff", false)]
    [InlineData("10000000000000003", false)]
    [InlineData("ffffffffffffffffff", true)]
    public async Task ChunkSizeOverflow_400Dpe_Closed_NoRequestCompletesUpstream(string size, bool httpClient)
    {
        await using var rig = httpClient ? await DownstreamRig.InboundThroughHttpClientAsync() : await DownstreamRig.InboundAsync();
        await using var client = await rig.ConnectAsync();

        await client.TrySendAsync("POST /p HTTP/1.1\r\nHost: a\r\nx-test-id: big\r\nTransfer-Encoding: chunked\r\n\r\n" + size + "\r\nabc\r\n0\r\n\r\n" + Smuggled);

        var response = await client.ReadResponseAsync();
        Assert.Equal(BadRequest, response.StatusLine);
        Assert.True(response.ConnectionHas("close"));
        Assert.Empty(response.Body);
        Assert.Equal("", await client.ReadToEndAsync());
        Assert.Equal(ResponseFlags.DownstreamProtocolError, await rig.Proxy.FlagsOfAsync("big"));
        Assert.Empty(rig.Received);
        Assert.DoesNotContain(rig.Upstream.Requests, r => r.RequestLine.Contains("/smuggled", StringComparison.Ordinal));
    }

    /// <summary>
    /// Content-Length and Transfer-Encoding: chunked together (either order): chunked wins (RFC 9112 §6.3), the upstream
    /// gets the chunked body without any Content-Length — nor the "X-Content-Length: 3" Kestrel keeps the removed value
    /// in — and the connection closes after the answer (RFC 9112 §6.1), so what follows is never read: neither as the
    /// rest of a 3-byte body nor as a new request.
    /// </summary>
    [Theory]
    [InlineData("Content-Length: 3\r\nTransfer-Encoding: chunked")]
    [InlineData("Transfer-Encoding: chunked\r\nContent-Length: 3")]
    public async Task ContentLengthAndChunked_ChunkedWins_NoContentLengthUpstream_ConnectionClosedAfter(string fields)
    {
        await using var rig = await DownstreamRig.InboundAsync();
        await using var client = await rig.ConnectAsync();

        await client.TrySendAsync($"POST /p HTTP/1.1\r\nHost: a\r\n{fields}\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + Smuggled);

        var response = await client.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 200 OK", response.StatusLine);
        Assert.Equal("/p|3", response.BodyText);
        Assert.True(response.ConnectionHas("close"));
        Assert.Equal("", await client.ReadToEndAsync());
        var only = rig.Only();
        Assert.Equal("abc", only.BodyText);
        Assert.Empty(only.Request.Lines("Content-Length"));
        Assert.Empty(only.Request.Lines("X-Content-Length"));
        Assert.Equal("chunked", only.Request.Single("Transfer-Encoding"));
        Assert.Single(rig.Upstream.Requests);
    }

    /// <summary>An X-Content-Length the client sent itself is an ordinary field: forwarded, whatever the framing.</summary>
    [Theory]
    [InlineData("Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")]
    [InlineData("Content-Length: 3\r\n\r\nabc")]
    public async Task ClientSentXContentLength_Forwarded(string framing)
    {
        await using var rig = await DownstreamRig.InboundAsync();
        await using var client = await rig.ConnectAsync();

        // After a request that had Transfer-Encoding and Content-Length on another connection: nothing carries over.
        await using (var first = await rig.ConnectAsync())
        {
            await first.SendAsync("POST /cl-te HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
            Assert.Equal("HTTP/1.1 200 OK", (await first.ReadResponseAsync()).StatusLine);
        }

        await client.SendAsync($"POST /p HTTP/1.1\r\nHost: a\r\nX-Content-Length: 7\r\n{framing}");

        Assert.Equal("/p|3", (await client.ReadResponseAsync()).BodyText);
        Assert.Equal("7", rig.Received[^1].Request.Single("X-Content-Length"));
    }

    /// <summary>Accepted oddities, each followed by a legitimate request on the same connection.</summary>
    public static TheoryData<string, string, string, string> AcceptedOddities() => new()
    {
        // name, first request (the oddity), the body the upstream must get, the request line the upstream must get
        { "Content-Length +5", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nabcde", "abcde", "POST /p HTTP/1.1" },
        { "Content-Length with spaces around", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length:  5 \r\n\r\nabcde", "abcde", "POST /p HTTP/1.1" },
        { "Transfer-Encoding twice", "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "abc", "POST /p HTTP/1.1" },
        { "Transfer-Encoding chunked, chunked", "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "abc", "POST /p HTTP/1.1" },
        { "Transfer-Encoding CHUNKED", "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "abc", "POST /p HTTP/1.1" },
        { "chunk extensions", "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b;c=\"d e\"\r\nabc\r\n2;x\r\nde\r\n0;last\r\n\r\n", "abcde", "POST /p HTTP/1.1" },
        { "chunked trailer fields", "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx-t: 1\r\n\r\n", "abc", "POST /p HTTP/1.1" },
        { "uppercase hex chunk size", "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n", "0123456789", "POST /p HTTP/1.1" },
        { "GET with a Content-Length body", "GET /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc", "abc", "GET /p HTTP/1.1" },
        { "POST without any length", "POST /p HTTP/1.1\r\nHost: a\r\n\r\n", "", "POST /p HTTP/1.1" },
        { "bare LF line ends in the head", "GET /p HTTP/1.1\nHost: a\nx-a: 1\n\n", "", "GET /p HTTP/1.1" },
        { "one bare LF field line", "GET /p HTTP/1.1\r\nHost: a\nx-a: 1\r\n\r\n", "", "GET /p HTTP/1.1" },
        { "two spaces before the version", "GET /p  HTTP/1.1\r\nHost: a\r\n\r\n", "", "GET /p HTTP/1.1" },
        { "empty lines before the request line", "\r\n\r\nGET /p HTTP/1.1\r\nHost: a\r\n\r\n", "", "GET /p HTTP/1.1" },
        { "lowercase method", "get /p HTTP/1.1\r\nHost: a\r\n\r\n", "", "get /p HTTP/1.1" },
        { "extension method", "PURGE /p HTTP/1.1\r\nHost: a\r\n\r\n", "", "PURGE /p HTTP/1.1" },
        { "Expect other than 100-continue", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 200-ok\r\n\r\nabc", "abc", "POST /p HTTP/1.1" },
    };

    [Theory]
    [MemberData(nameof(AcceptedOddities))]
    public async Task AcceptedOddity_UpstreamGetsExactlyOneFramingOfIt_ThenTheNextRequest(string name, string raw, string body, string requestLine)
    {
        await using var rig = await DownstreamRig.InboundAsync();
        await using var client = await rig.ConnectAsync();

        await client.SendAsync(raw + Next);

        var first = await client.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 200 OK", first.StatusLine);
        Assert.Equal($"/p|{body.Length}", first.BodyText);
        Assert.False(first.ConnectionHas("close"), name);
        var second = await client.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 200 OK", second.StatusLine);
        Assert.Equal("/next|0", second.BodyText);
        Assert.Collection(rig.Received,
            r =>
            {
                Assert.Equal(requestLine, r.Request.RequestLine);
                Assert.Equal(body, r.BodyText);
                Assert.Equal("a", r.Request.Single("Host"));
            },
            r => Assert.Equal("GET /next HTTP/1.1", r.Request.RequestLine));
    }

    [Fact]
    public async Task FieldLinesAfterABareLf_ParsedAsFields_NotFoldedIntoTheValue()
    {
        await using var rig = await DownstreamRig.InboundAsync();

        var answer = await Downstream("GET /p HTTP/1.1\nHost: a\nx-a: 1\nx-b: 2\nConnection: close\n\n", rig);

        Assert.StartsWith("HTTP/1.1 200 OK\r\n", answer, StringComparison.Ordinal);
        var only = rig.Only();
        Assert.Equal("1", only.Request.Single("x-a"));
        Assert.Equal("2", only.Request.Single("x-b"));
    }

    /// <summary>Control characters other than NUL, CR and LF pass through a value unchanged (Kestrel does not reject them).</summary>
    [Fact]
    public async Task ControlCharacterInAValue_ForwardedUnchanged()
    {
        await using var rig = await DownstreamRig.InboundAsync();

        var answer = await Downstream("GET /p HTTP/1.1\r\nHost: a\r\nx-a: 1\u0001 2\r\nConnection: close\r\n\r\n", rig);

        Assert.StartsWith("HTTP/1.1 200 OK\r\n", answer, StringComparison.Ordinal);
        Assert.Equal("1\u0001 2", rig.Only().Request.Single("x-a"));
    }

    /// <summary>HTTP/1.0 has no chunked coding, yet a chunked HTTP/1.0 request is decoded as chunked, then closed.</summary>
    [Fact]
    public async Task Http10WithChunked_DecodedAsChunked_ThenClosed()
    {
        await using var rig = await DownstreamRig.InboundAsync();
        await using var client = await rig.ConnectAsync();

        await client.TrySendAsync("POST /p HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + Smuggled);

        var response = await client.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 200 OK", response.StatusLine);
        Assert.True(response.ConnectionHas("close"));
        Assert.Equal("", await client.ReadToEndAsync());
        Assert.Equal("abc", rig.Only().BodyText);
        Assert.Single(rig.Upstream.Requests);
    }

    private static async Task<string> Downstream(string raw, DownstreamRig rig)
    {
        await using var client = await rig.ConnectAsync();
        await client.SendAsync(raw);
        return await client.ReadToEndAsync();
    }
}
