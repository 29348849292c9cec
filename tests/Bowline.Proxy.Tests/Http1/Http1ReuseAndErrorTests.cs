using System.Net;
using Bowline.Proxy.Pipeline;
using Bowline.Proxy.Tests.Infrastructure;

namespace Bowline.Proxy.Tests.Http1;

/// <summary>Keep-alive reuse of upstream connections, and upstream failures turned into Envoy-style local replies.</summary>
public sealed class Http1ReuseAndErrorTests
{
    private static Task Ok(RawExchange e) => e.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");

    private static async Task<(HttpStatusCode Status, string Body)> GetAsync(HttpClient client, Uri uri, string? testId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (testId is not null)
        {
            request.Headers.Add("x-test-id", testId);
        }

        using var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task SequentialRequests_KeepAliveUpstream_OneConnectionForAll()
    {
        await using var upstream = RawUpstream.Start(Ok);
        await using var proxy = await Http1Proxy.InboundAsync(upstream.Port);
        using var client = Clients.Direct();

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal((HttpStatusCode.OK, "ok"), await GetAsync(client, proxy.InboundUri($"/{i}")));
        }

        Assert.Equal(1, upstream.Accepted);
        Assert.Equal(Enumerable.Range(1, 10), upstream.Requests.Select(r => r.IndexOnConnection));
    }

    [Fact]
    public async Task ConnectionCloseInResponse_NextRequestOnANewConnection()
    {
        await using var upstream = RawUpstream.Start(e => e.WriteAsync("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"));
        await using var proxy = await Http1Proxy.InboundAsync(upstream.Port);
        using var client = Clients.Direct();

        Assert.Equal((HttpStatusCode.OK, "ok"), await GetAsync(client, proxy.InboundUri("/1")));
        Assert.Equal((HttpStatusCode.OK, "ok"), await GetAsync(client, proxy.InboundUri("/2")));

        Assert.Equal(2, upstream.Accepted);
    }

    [Fact]
    public async Task Http10ResponseWithoutKeepAlive_NotReused()
    {
        // The upstream leaves the connection open: only the proxy's reading of HTTP/1.0 keeps it from reusing it.
        await using var upstream = RawUpstream.Start(e => e.WriteAsync("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        await using var proxy = await Http1Proxy.InboundAsync(upstream.Port);
        using var client = Clients.Direct();

        Assert.Equal((HttpStatusCode.OK, "ok"), await GetAsync(client, proxy.InboundUri("/1")));
        Assert.Equal((HttpStatusCode.OK, "ok"), await GetAsync(client, proxy.InboundUri("/2")));

        Assert.Equal(2, upstream.Accepted);
        Assert.All(upstream.Requests, r => Assert.Equal(1, r.IndexOnConnection));
    }

    [Fact]
    public async Task UpstreamClosesIdleKeepAliveConnection_NextGetSucceedsOnANewConnection()
    {
        await using var upstream = RawUpstream.Start(async e =>
        {
            await Ok(e);
            if (e.Connection.Index == 1)
            {
                // Answered as keep-alive, then closed while idle (an upstream's own idle timeout).
                e.Connection.Close();
            }
        });
        await using var proxy = await Http1Proxy.InboundAsync(upstream.Port);
        using var client = Clients.Direct();

        Assert.Equal((HttpStatusCode.OK, "ok"), await GetAsync(client, proxy.InboundUri("/1")));
        await Polling.UntilAsync(() => upstream.Ended == 1);
        Assert.Equal((HttpStatusCode.OK, "ok"), await GetAsync(client, proxy.InboundUri("/2"), "after-close"));

        Assert.Equal(ResponseFlags.None, await proxy.FlagsOfAsync("after-close"));
        Assert.Equal(2, upstream.Accepted);
    }

    [Fact]
    public async Task ReusedConnectionResetBeforeAnyResponseByte_GetRetriedOnANewConnection()
    {
        // The close raced the next request: the upstream got it on the idle connection and reset instead of answering.
        await using var upstream = RawUpstream.Start(e =>
        {
            if (e.Connection.Index == 1 && e.Request.IndexOnConnection == 2)
            {
                e.Connection.Reset();
                return Task.CompletedTask;
            }

            return Ok(e);
        });
        await using var proxy = await Http1Proxy.InboundAsync(upstream.Port);
        using var client = Clients.Direct();

        Assert.Equal((HttpStatusCode.OK, "ok"), await GetAsync(client, proxy.InboundUri("/1")));
        Assert.Equal((HttpStatusCode.OK, "ok"), await GetAsync(client, proxy.InboundUri("/2"), "reset"));

        Assert.Equal(ResponseFlags.None, await proxy.FlagsOfAsync("reset"));
        Assert.Equal(2, upstream.Accepted);
    }

    [Fact]
    public async Task ConnectRefused_503WithFlagUF()
    {
        using var refused = FreePort.Refused();
        await using var proxy = await Http1Proxy.InboundAsync(refused.Port);
        using var client = Clients.Direct();

        var (status, body) = await GetAsync(client, proxy.InboundUri("/"), "uf");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("connection failure", body, StringComparison.Ordinal);
        Assert.Equal(ResponseFlags.UpstreamConnectionFailure, await proxy.FlagsOfAsync("uf"));
    }

    [Theory]
    [InlineData("garbage\r\n\r\n")]
    [InlineData("HTTP/1.1 2xx OK\r\nContent-Length: 2\r\n\r\nok")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok")]
    [InlineData("HTTP/1.1 200 OK\r\nbad header\r\n\r\n")]
    public async Task InvalidResponseHead_503WithFlagUC(string answer)
    {
        // HttpRequestError.InvalidResponse is no connect failure: the forwarder answers as for a reset (UC).
        await using var upstream = RawUpstream.Start(e => e.WriteAsync(answer));
        await using var proxy = await Http1Proxy.InboundAsync(upstream.Port);
        using var client = Clients.Direct();

        var (status, body) = await GetAsync(client, proxy.InboundUri("/"), "uc");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("connection termination", body, StringComparison.Ordinal);
        Assert.Equal(ResponseFlags.UpstreamConnectionTermination, await proxy.FlagsOfAsync("uc"));
    }

    [Fact]
    public async Task UpstreamClosesAfterHalfTheHeaders_503WithFlagUC()
    {
        await using var upstream = RawUpstream.Start(async e =>
        {
            await e.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: text/pl");
            e.Connection.Close();
        });
        await using var proxy = await Http1Proxy.InboundAsync(upstream.Port);
        using var client = Clients.Direct();

        var (status, _) = await GetAsync(client, proxy.InboundUri("/"), "half");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal(ResponseFlags.UpstreamConnectionTermination, await proxy.FlagsOfAsync("half"));
    }

    [Fact]
    public async Task ResponseHeadOver64KiB_503()
    {
        var big = new string('a', 70 * 1024);
        await using var upstream = RawUpstream.Start(e => e.WriteAsync($"HTTP/1.1 200 OK\r\nx-big: {big}\r\nContent-Length: 2\r\n\r\nok"));
        await using var proxy = await Http1Proxy.InboundAsync(upstream.Port);
        using var client = Clients.Direct();

        var (status, _) = await GetAsync(client, proxy.InboundUri("/"), "big");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal(ResponseFlags.UpstreamConnectionTermination, await proxy.FlagsOfAsync("big"));
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n")]
    public async Task UpstreamClosesInsideTheBody_ClientSeesAnAbortedResponseNotACompleteOne(string head)
    {
        await using var upstream = RawUpstream.Start(async e =>
        {
            await e.WriteAsync(head + new string('x', 500));
            e.Connection.Close();
        });
        await using var proxy = await Http1Proxy.InboundAsync(upstream.Port);
        using var client = Clients.Direct();

        using var request = new HttpRequestMessage(HttpMethod.Get, proxy.InboundUri("/"));
        request.Headers.Add("x-test-id", "cut");
        // The proxy aborts the downstream connection: depending on when the reset lands, the client fails reading the
        // head (already sent) or the body; never a complete response.
        var failure = await Record.ExceptionAsync(async () =>
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await response.Content.ReadAsByteArrayAsync();
        });

        Assert.True(failure is HttpRequestException or IOException, $"expected a broken body, got {failure?.GetType().Name ?? "a complete one"}");
        Assert.Equal(ResponseFlags.UpstreamConnectionTermination, await proxy.FlagsOfAsync("cut"));
    }

    [Fact]
    public async Task RouteTimeout_UpstreamNeverAnswers_504WithFlagUT_ConnectionNotReused()
    {
        await using var upstream = RawUpstream.Start(e => e.Request.RequestLine.StartsWith("GET /hang", StringComparison.Ordinal) ? Task.CompletedTask : Ok(e));
        await using var proxy = await Http1Proxy.OutboundAsync(upstream.Port, r => r with { Timeout = TimeSpan.FromMilliseconds(300) });
        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));

        var (status, _) = await GetAsync(client, new Uri("http://svc/hang"), "ut");
        Assert.Equal(HttpStatusCode.GatewayTimeout, status);
        Assert.Equal(ResponseFlags.UpstreamRequestTimeout, await proxy.FlagsOfAsync("ut"));

        // The proxy closed the connection the timed-out request was on: an answer arriving late can't meet the next request.
        await Polling.UntilAsync(() => upstream.Ended == 1);
        Assert.Equal((HttpStatusCode.OK, "ok"), await GetAsync(client, new Uri("http://svc/ok")));
        Assert.Equal(2, upstream.Accepted);
    }
}
