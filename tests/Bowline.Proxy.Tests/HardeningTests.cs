using System.Net;
using System.Net.Sockets;
using System.Text;
using Bowline.Proxy.Listeners;
using Bowline.Proxy.Tests.Infrastructure;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using static Bowline.Proxy.Tests.Infrastructure.Configs;

namespace Bowline.Proxy.Tests;

/// <summary>
/// Malformed and slow clients get a 4xx or a closed connection (Envoy's limits), while a well-behaved client on the
/// same listener keeps getting its answers.
/// </summary>
public sealed class HardeningTests
{
    public static TheoryData<string, string> BadRequests() => new()
    {
        // Envoy's max_request_headers_kb (60): one 70 KB header.
        { "GET / HTTP/1.1\r\nHost: svc\r\nx-big: " + new string('a', 70 * 1024) + "\r\n\r\n", "HTTP/1.1 431" },
        // Envoy's max_headers_count (100).
        { "GET / HTTP/1.1\r\nHost: svc\r\n" + string.Concat(Enumerable.Range(0, 101).Select(i => $"x-h{i}: v\r\n")) + "\r\n", "HTTP/1.1 431" },
        // A request line longer than the whole head budget.
        { "GET /" + new string('p', 70 * 1024) + " HTTP/1.1\r\nHost: svc\r\n\r\n", "HTTP/1.1 414" },
        { "GET / HTTP/1.1\r\nHost: svc\r\nbad name: x\r\n\r\n", "HTTP/1.1 400" },
        { "GET / HTTP/1.1\r\nHost: svc\r\nx-nul: a\0b\r\n\r\n", "HTTP/1.1 400" },
        { "POST / HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabc\r\n0\r\n\r\n", "HTTP/1.1 400" },
        { "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 400" },
        { "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n", "HTTP/1.1 400" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task BadClient_GetsA4xx_WhileAGoodClientKeepsBeingServed(string raw, string expected)
    {
        await using var setup = await Setup.StartAsync();
        using var good = GoodTraffic.Start(setup.Outbound);

        var answer = await SendRawAsync(setup.Endpoint, Encoding.Latin1.GetBytes(raw));

        Assert.StartsWith(expected, answer);
        Assert.True(await good.StopAsync() > 0);
    }

    [Fact]
    public async Task Http10WithoutHost_IsAnsweredNotForwardedBlindly()
    {
        await using var setup = await Setup.StartAsync();
        var answer = await SendRawAsync(setup.Endpoint, "GET /x HTTP/1.0\r\n\r\n"u8.ToArray());
        // No authority to route by: the outbound listener has no virtual host for it.
        Assert.StartsWith("HTTP/1.1 404", answer);
    }

    [Fact]
    public async Task PipelinedGarbage_AfterAGoodRequest_FirstAnsweredThen400AndClosed()
    {
        await using var setup = await Setup.StartAsync();
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(setup.Endpoint);
        var stream = tcp.GetStream();
        await stream.WriteAsync("GET / HTTP/1.1\r\nHost: svc\r\n\r\nGARBAGE\r\n\r\n"u8.ToArray());

        var all = await ReadToCloseAsync(stream);
        Assert.StartsWith("HTTP/1.1 200", all);
        Assert.Contains("HTTP/1.1 400", all);
    }

    [Fact]
    public async Task Slowloris_HeadNeverFinished_ConnectionClosedAfterTheHeadersTimeout()
    {
        // A short configured timeout, so the test does not wait Envoy-like 10 s; what it proves is the close.
        await using var setup = await Setup.StartAsync(new ListenerLimits { RequestHeadersTimeout = TimeSpan.FromSeconds(1) });
        using var good = GoodTraffic.Start(setup.Outbound);

        using var slow = new TcpClient();
        await slow.ConnectAsync(setup.Endpoint);
        await slow.GetStream().WriteAsync("GET / HTTP/1.1\r\nHost: svc\r\nx-slow: "u8.ToArray());
        using var silent = new TcpClient();
        await silent.ConnectAsync(setup.Endpoint);
        using var prefaceOnly = new TcpClient();
        await prefaceOnly.ConnectAsync(setup.Endpoint);
        await prefaceOnly.GetStream().WriteAsync("PRI * HTTP/2.0\r\n"u8.ToArray());

        // Each is closed by the proxy (a 408 first is allowed); the generous bound only guards a hung test.
        foreach (var client in new[] { slow, silent, prefaceOnly })
        {
            var rest = await ReadToCloseAsync(client.GetStream());
            Assert.True(rest.Length == 0 || rest.StartsWith("HTTP/1.1 408", StringComparison.Ordinal), rest);
        }

        Assert.True(await good.StopAsync() > 0);
    }

    [Fact]
    public async Task SlowBody_BelowTheMinimumRate_Gets408OrClose()
    {
        await using var setup = await Setup.StartAsync(new ListenerLimits { MinRequestBodyDataRate = new MinDataRate(1000, TimeSpan.FromSeconds(2)) });
        using var good = GoodTraffic.Start(setup.Outbound);
        using var slow = new TcpClient();
        await slow.ConnectAsync(setup.Endpoint);
        await slow.GetStream().WriteAsync("POST / HTTP/1.1\r\nHost: svc\r\nContent-Length: 100000\r\n\r\nabc"u8.ToArray());

        var rest = await ReadToCloseAsync(slow.GetStream());
        Assert.True(rest.Length == 0 || rest.StartsWith("HTTP/1.1 408", StringComparison.Ordinal), rest);
        Assert.True(await good.StopAsync() > 0);
    }

    private static async Task<string> SendRawAsync(IPEndPoint endpoint, byte[] raw)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(endpoint);
        var stream = tcp.GetStream();
        try
        {
            await stream.WriteAsync(raw);
        }
        catch (IOException)
        {
            // The proxy may answer and close before it has read everything sent.
        }

        return await ReadToCloseAsync(stream);
    }

    private static async Task<string> ReadToCloseAsync(NetworkStream stream)
    {
        var all = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(60))) > 0)
            {
                all.Write(buffer, 0, read);
            }
        }
        catch (IOException)
        {
            // A reset is a close too.
        }

        return Encoding.Latin1.GetString(all.ToArray());
    }

    /// <summary>A client sending ordinary requests one after another until stopped; each must be a 200.</summary>
    private sealed class GoodTraffic : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task<int> _loop;

        private GoodTraffic(Uri outbound) => _loop = RunAsync(outbound, _stop.Token);

        public static GoodTraffic Start(Uri outbound) => new(outbound);

        /// <summary>Stops after at least one more request succeeds; the number of 200s.</summary>
        public async Task<int> StopAsync()
        {
            _stop.Cancel();
            return await _loop.WaitAsync(TimeSpan.FromSeconds(60));
        }

        private static async Task<int> RunAsync(Uri outbound, CancellationToken stop)
        {
            await Task.Yield();
            using var client = Clients.ViaProxy(outbound);
            var ok = 0;
            do
            {
                using var response = await client.GetAsync("http://svc/", CancellationToken.None);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                ok++;
            }
            while (!stop.IsCancellationRequested);
            return ok;
        }

        public void Dispose()
        {
            _stop.Cancel();
            _stop.Dispose();
        }
    }

    private sealed class Setup : IAsyncDisposable
    {
        private readonly TestBackend _backend;
        private readonly ProxyUnderTest _proxy;

        private Setup(TestBackend backend, ProxyUnderTest proxy)
        {
            _backend = backend;
            _proxy = proxy;
        }

        public IPEndPoint Endpoint => _proxy.ListenerEndpoint("outbound");

        public Uri Outbound => _proxy.ListenerUri("outbound");

        public static async Task<Setup> StartAsync(ListenerLimits? limits = null)
        {
            var backend = await TestBackend.StartAsync("b", HttpProtocols.Http1, c => c.Request.Body.CopyToAsync(Stream.Null));
            var proxy = new ProxyUnderTest(limits: limits);
            await proxy.ApplyAsync(ConfigOf([Outbound()], [Table("outbound", Host("svc", ["svc"], Route("b")))], [Cluster("b", backend.Port)]));
            return new Setup(backend, proxy);
        }

        public async ValueTask DisposeAsync()
        {
            await _proxy.DisposeAsync();
            await _backend.DisposeAsync();
        }
    }
}
