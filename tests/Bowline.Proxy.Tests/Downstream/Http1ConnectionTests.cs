using System.Globalization;
using Bowline.Proxy.Tests.Infrastructure;

namespace Bowline.Proxy.Tests.Downstream;

/// <summary>Persistence, pipelining, closes, request-target forms and hop-by-hop fields on a plaintext listener.</summary>
public sealed class Http1ConnectionTests
{
    [Fact]
    public async Task KeepAlive_ThreeRequestsOneAfterAnother_ThreeResponsesOnOneSocket()
    {
        await using var rig = await DownstreamRig.InboundAsync();
        await using var client = await rig.ConnectAsync();

        for (var i = 1; i <= 3; i++)
        {
            await client.SendAsync($"GET /{i} HTTP/1.1\r\nHost: a\r\n\r\n");
            var response = await client.ReadResponseAsync();
            Assert.Equal("HTTP/1.1 200 OK", response.StatusLine);
            Assert.Equal($"/{i}|0", response.BodyText);
            Assert.False(response.ConnectionHas("close"));
        }

        Assert.Equal(["/1", "/2", "/3"], rig.Received.Select(r => r.Target));
    }

    [Fact]
    public async Task Pipelining_ThreeRequestsInOneWrite_AnsweredInOrderWithTheirBodies()
    {
        // The slowest answer first: a server answering as upstream responses finish would reorder.
        using var firstMayAnswer = new SemaphoreSlim(0);
        await using var rig = await DownstreamRig.InboundAsync(async (e, body) =>
        {
            if (e.Request.RequestLine.StartsWith("POST /1 ", StringComparison.Ordinal))
            {
                await firstMayAnswer.WaitAsync(TimeSpan.FromSeconds(30));
            }

            await DownstreamRig.Echo(e, body);
        });
        await using var client = await rig.ConnectAsync();

        await client.SendAsync("POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
            + "POST /2 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n"
            + "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n");
        firstMayAnswer.Release();

        Assert.Equal("/1|3", (await client.ReadResponseAsync()).BodyText);
        Assert.Equal("/2|2", (await client.ReadResponseAsync()).BodyText);
        Assert.Equal("/3|0", (await client.ReadResponseAsync()).BodyText);
        Assert.Equal(["abc", "de", ""], rig.Received.Select(r => r.BodyText));
    }

    [Fact]
    public async Task ConnectionCloseFromTheClient_ResponseSaysClose_ServerCloses_NothingAfterIsRead()
    {
        await using var rig = await DownstreamRig.InboundAsync();
        await using var client = await rig.ConnectAsync();

        await client.SendAsync("GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n");

        var response = await client.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 200 OK", response.StatusLine);
        Assert.Equal("/c|0", response.BodyText);
        Assert.True(response.ConnectionHas("close"));
        Assert.Equal("", await client.ReadToEndAsync());
        Assert.Equal(["/c"], rig.Received.Select(r => r.Target));
        // Connection is hop-by-hop: the upstream connection stays the proxy's own business.
        Assert.Empty(rig.Only().Request.Lines("Connection"));
    }

    /// <summary>Today: an HTTP/1.1 status line, "Connection: close", and the close; the upstream gets HTTP/1.1.</summary>
    [Fact]
    public async Task Http10_AnsweredThenClosed()
    {
        await using var rig = await DownstreamRig.InboundAsync();
        await using var client = await rig.ConnectAsync();

        await client.SendAsync("GET /old HTTP/1.0\r\nHost: a\r\n\r\nGET /after HTTP/1.0\r\nHost: a\r\n\r\n");

        var response = await client.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 200 OK", response.StatusLine);
        Assert.Equal("/old|0", response.BodyText);
        Assert.True(response.ConnectionHas("close"));
        Assert.Equal("", await client.ReadToEndAsync());
        Assert.Equal("GET /old HTTP/1.1", rig.Only().Request.RequestLine);
    }

    /// <summary>Today: HTTP/1.0 with "Connection: keep-alive" is kept open, the first answer saying "Connection: keep-alive".</summary>
    [Fact]
    public async Task Http10KeepAlive_ConnectionKeptForTheNextRequest()
    {
        await using var rig = await DownstreamRig.InboundAsync();
        await using var client = await rig.ConnectAsync();

        await client.SendAsync("GET /1 HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n");
        var first = await client.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 200 OK", first.StatusLine);
        Assert.True(first.ConnectionHas("keep-alive"));
        Assert.Equal("content-length", first.Framing);

        await client.SendAsync("GET /2 HTTP/1.0\r\nHost: a\r\n\r\n");
        var second = await client.ReadResponseAsync();
        Assert.Equal("/2|0", second.BodyText);
        Assert.True(second.ConnectionHas("close"));
        Assert.Equal("", await client.ReadToEndAsync());
        Assert.Equal(["/1", "/2"], rig.Received.Select(r => r.Target));
    }

    [Fact]
    public async Task Http10WithContentLengthBody_UpstreamGetsTheBody_ThenClosed()
    {
        await using var rig = await DownstreamRig.InboundAsync();
        await using var client = await rig.ConnectAsync();

        await client.SendAsync("POST /p HTTP/1.0\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc");

        var response = await client.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 200 OK", response.StatusLine);
        Assert.Equal("/p|3", response.BodyText);
        Assert.True(response.ConnectionHas("close"));
        Assert.Equal("", await client.ReadToEndAsync());
        Assert.Equal("abc", rig.Only().BodyText);
    }

    [Fact]
    public async Task AbsoluteFormThroughTheOutboundListener_UpstreamSeesOriginFormAndTheTargetsAuthority()
    {
        await using var rig = await DownstreamRig.OutboundAsync();
        await using var client = await rig.ConnectAsync();

        // The Host field disagrees with the target: the target's authority wins (RFC 9112 §3.2.2).
        await client.SendAsync("GET http://svc/path?q=1 HTTP/1.1\r\nHost: other\r\n\r\n");

        var response = await client.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 200 OK", response.StatusLine);
        var only = rig.Only();
        Assert.Equal("GET /path?q=1 HTTP/1.1", only.Request.RequestLine);
        Assert.Equal("svc", only.Request.Single("Host"));
    }

    /// <summary>
    /// "OPTIONS *" asks about the server, not a resource: the upstream gets the asterisk-form unchanged, on an inbound
    /// listener and through an outbound route (routed as "/"). HttpClient (clusters with connectionPool settings) cannot
    /// send that form: there it goes as "OPTIONS /".
    /// </summary>
    [Theory]
    [InlineData("inbound", "OPTIONS * HTTP/1.1")]
    [InlineData("outbound", "OPTIONS * HTTP/1.1")]
    [InlineData("inbound through HttpClient", "OPTIONS / HTTP/1.1")]
    public async Task AsteriskFormOptions_ForwardedUnchanged(string listener, string upstreamRequestLine)
    {
        await using var rig = listener switch
        {
            "outbound" => await DownstreamRig.OutboundAsync(),
            "inbound through HttpClient" => await DownstreamRig.InboundThroughHttpClientAsync(),
            _ => await DownstreamRig.InboundAsync(),
        };
        await using var client = await rig.ConnectAsync();

        await client.SendAsync("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");

        var response = await client.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 200 OK", response.StatusLine);
        var only = rig.Only();
        Assert.Equal(upstreamRequestLine, only.Request.RequestLine);
        Assert.Equal("a", only.Request.Single("Host"));
    }

    [Fact]
    public async Task HostWithPort_ForwardedAsSent()
    {
        await using var rig = await DownstreamRig.InboundAsync();
        await using var client = await rig.ConnectAsync();

        await client.SendAsync("GET /p HTTP/1.1\r\nHost: a.example:8080\r\n\r\n");

        Assert.Equal("HTTP/1.1 200 OK", (await client.ReadResponseAsync()).StatusLine);
        Assert.Equal("a.example:8080", rig.Only().Request.Single("Host"));
    }

    [Fact]
    public async Task PercentEncodedTargetAndQuery_ReachTheUpstreamByteForByte()
    {
        await using var rig = await DownstreamRig.InboundAsync();
        await using var client = await rig.ConnectAsync();

        const string target = "/a%2Fb%20c/../d/./e%41?x=1&y=%2F&z&sp=a+b&e=%zz";
        await client.SendAsync($"GET {target} HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Equal("HTTP/1.1 200 OK", (await client.ReadResponseAsync()).StatusLine);
        Assert.Equal($"GET {target} HTTP/1.1", rig.Only().Request.RequestLine);
    }

    /// <summary>
    /// Every field the Connection header names is hop-by-hop (RFC 9110 §7.6.1), also when the list holds keep-alive,
    /// close or upgrade — options for which Kestrel rewrites the header to that option alone before the proxy sees it.
    /// </summary>
    [Theory]
    [InlineData("Connection: x-foo")]
    [InlineData("Connection: x-foo, keep-alive")]
    [InlineData("Connection: keep-alive, X-Foo")]
    [InlineData("Connection: x-foo, close")]
    [InlineData("Connection: x-foo\r\nConnection: keep-alive")]
    public async Task HopByHopFields_NotForwarded_OthersKept(string connection)
    {
        await using var rig = await DownstreamRig.InboundAsync();
        await using var client = await rig.ConnectAsync();

        await client.SendAsync($"GET /p HTTP/1.1\r\nHost: a\r\n{connection}\r\nx-foo: 1\r\nKeep-Alive: timeout=5\r\n"
            + "TE: gzip\r\nProxy-Connection: keep-alive\r\nUpgrade: foo\r\nx-keep: y\r\n\r\n");

        Assert.Equal("HTTP/1.1 200 OK", (await client.ReadResponseAsync()).StatusLine);
        var request = rig.Only().Request;
        Assert.Empty(request.Lines("Connection"));
        Assert.Empty(request.Lines("x-foo"));
        Assert.Empty(request.Lines("Keep-Alive"));
        Assert.Empty(request.Lines("TE"));
        Assert.Empty(request.Lines("Proxy-Connection"));
        Assert.Empty(request.Lines("Upgrade"));
        Assert.Equal("y", request.Single("x-keep"));
    }

    /// <summary>
    /// What one request's Connection list named is that request's only: on the same connection, a next request whose
    /// Connection says just keep-alive gets its x-foo forwarded — also when its head arrives in pieces.
    /// </summary>
    [Fact]
    public async Task ConnectionListedField_DroppedForThatRequestOnly_NextRequestOnTheConnectionKeepsIt()
    {
        await using var rig = await DownstreamRig.InboundAsync();
        await using var client = await rig.ConnectAsync();

        await client.SendAsync("GET /1 HTTP/1.1\r\nHost: a\r\nConnection: ");
        await Task.Delay(50);
        await client.SendAsync("x-foo, keep-alive\r\n");
        await Task.Delay(50);
        await client.SendAsync("x-foo: 1\r\n\r\n");
        Assert.Equal("/1|0", (await client.ReadResponseAsync()).BodyText);
        await client.SendAsync("GET /2 HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nx-foo: 2\r\n\r\n");
        Assert.Equal("/2|0", (await client.ReadResponseAsync()).BodyText);

        Assert.Collection(rig.Received,
            r => Assert.Empty(r.Request.Lines("x-foo")),
            r => Assert.Equal("2", r.Request.Single("x-foo")));
    }

    /// <summary>An HTTP/1.0 client's keep-alive still holds when its Connection list names a field too.</summary>
    [Fact]
    public async Task Http10KeepAliveWithAListedField_FieldDropped_ConnectionKept()
    {
        await using var rig = await DownstreamRig.InboundAsync();
        await using var client = await rig.ConnectAsync();

        await client.SendAsync("GET /1 HTTP/1.0\r\nHost: a\r\nConnection: keep-alive, x-foo\r\nx-foo: 1\r\n\r\n");
        var first = await client.ReadResponseAsync();
        Assert.True(first.ConnectionHas("keep-alive"));
        await client.SendAsync("GET /2 HTTP/1.0\r\nHost: a\r\n\r\n");
        Assert.Equal("/2|0", (await client.ReadResponseAsync()).BodyText);

        Assert.Empty(rig.Received[0].Request.Lines("x-foo"));
    }

    /// <summary>Today every response carries a Date field (RFC 9110 §6.6.1), in IMF-fixdate, and no Server field.</summary>
    [Fact]
    public async Task Response_CarriesADateField_NoServerField()
    {
        await using var rig = await DownstreamRig.InboundAsync();
        await using var client = await rig.ConnectAsync();

        await client.SendAsync("GET /p HTTP/1.1\r\nHost: a\r\n\r\n");

        var response = await client.ReadResponseAsync();
        var date = response.Single("Date");
        Assert.NotNull(date);
        Assert.True(DateTime.TryParseExact(date, "r", CultureInfo.InvariantCulture, DateTimeStyles.None, out _), date);
        Assert.Empty(response.Lines("Server"));
    }

    [Fact]
    public async Task FieldValueWhitespace_TrimmedAtBothEnds_KeptInside()
    {
        await using var rig = await DownstreamRig.InboundAsync();
        await using var client = await rig.ConnectAsync();

        await client.SendAsync("GET /p HTTP/1.1\r\nHost: a\r\nx-a: \t  v  w \t \r\nx-b:v\r\nx-empty:   \r\n\r\n");

        Assert.Equal("HTTP/1.1 200 OK", (await client.ReadResponseAsync()).StatusLine);
        var lines = rig.Only().Request.Head.Split("\r\n");
        Assert.Contains("x-a: v  w", lines);
        Assert.Contains("x-b: v", lines);
    }

    [Fact]
    public async Task ClientLeavesMidBody_UpstreamRequestAborted_OtherClientsStillServed()
    {
        await using var rig = await DownstreamRig.InboundAsync();
        var leaving = await rig.ConnectAsync();
        try
        {
            await leaving.SendAsync("POST /gone HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n" + new string('x', 1000));
            // The head is upstream and the body is streaming when the client leaves.
            await Polling.UntilAsync(() => !rig.Upstream.Requests.IsEmpty, TimeSpan.FromSeconds(30));
            leaving.Reset();
        }
        finally
        {
            await leaving.DisposeAsync();
        }

        await Polling.UntilAsync(() => rig.Aborted == 1, TimeSpan.FromSeconds(30));
        Assert.Empty(rig.Received);

        await using var other = await rig.ConnectAsync();
        await other.SendAsync("GET /other HTTP/1.1\r\nHost: a\r\n\r\n");
        var response = await other.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 200 OK", response.StatusLine);
        Assert.Equal("/other|0", response.BodyText);
        Assert.Equal(["/other"], rig.Received.Select(r => r.Target));
    }

    [Fact]
    public async Task ClientHalfClosesMidBody_UpstreamRequestAborted_NoResponseCompletesAsIfTheBodyWereWhole()
    {
        await using var rig = await DownstreamRig.InboundAsync();
        await using var client = await rig.ConnectAsync();

        await client.SendAsync("POST /short HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
        await Polling.UntilAsync(() => !rig.Upstream.Requests.IsEmpty, TimeSpan.FromSeconds(30));
        client.ShutdownSend();

        await Polling.UntilAsync(() => rig.Aborted == 1, TimeSpan.FromSeconds(30));
        Assert.Empty(rig.Received);
        var rest = await client.ReadToEndAsync();
        Assert.DoesNotContain("200 OK", rest, StringComparison.Ordinal);
    }
}
