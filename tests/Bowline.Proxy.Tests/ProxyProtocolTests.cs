using System.Diagnostics;
using System.Net;
using Bowline.Proxy.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using static Bowline.Proxy.Tests.Infrastructure.Configs;

namespace Bowline.Proxy.Tests;

public sealed class ProxyProtocolTests
{
    [Fact]
    public async Task Listener_H2cPriorKnowledgeAndHttp11_BothServedOnOnePort()
    {
        await using var backend = await TestBackend.StartAsync("b");
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(ConfigOf([Inbound("in", "app")], [], [Cluster("app", backend.Port)]));

        using var h2 = Clients.Direct(HttpVersion.Version20);
        using var h1 = Clients.Direct(HttpVersion.Version11);
        using var viaH2 = await h2.GetAsync(new Uri(proxy.ListenerUri("in"), "/x"));
        using var viaH1 = await h1.GetAsync(new Uri(proxy.ListenerUri("in"), "/x"));

        Assert.Equal(HttpVersion.Version20, viaH2.Version);
        Assert.Equal("b", await viaH2.Content.ReadAsStringAsync());
        Assert.Equal("http", ProxyForwardingTests.Header(viaH2, "x-seen-forwarded-proto"));
        Assert.Equal(HttpVersion.Version11, viaH1.Version);
        Assert.Equal("b", await viaH1.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Cluster_Http2Protocol_SpeaksH2cUpstreamAndCopiesTrailers()
    {
        await using var grpcLike = await TestBackend.StartAsync("h2", HttpProtocols.Http2, async context =>
        {
            context.Response.AppendTrailer("grpc-status", "0");
            await context.Response.WriteAsync("h2:" + context.Request.Protocol);
        });
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(ConfigOf([Inbound("in", "app")], [], [Http2Cluster("app", grpcLike.Port)]));

        using var client = Clients.Direct(HttpVersion.Version20);
        using var response = await client.GetAsync(new Uri(proxy.ListenerUri("in"), "/svc/Method"));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal("h2:HTTP/2", body);
        Assert.Equal("0", response.TrailingHeaders.GetValues("grpc-status").Single());
    }

    [Fact]
    public async Task Forwarding_LargeRequestBody_StreamsWithoutBuffering()
    {
        const long Size = 50L * 1024 * 1024;
        await using var sink = await TestBackend.StartAsync("sink", handler: async context =>
        {
            var buffer = new byte[64 * 1024];
            long total = 0;
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer)) > 0)
            {
                total += read;
            }

            await context.Response.WriteAsync(total.ToString());
        });
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(ConfigOf([Outbound()], [Table("outbound", Host("svc", ["*"], Route("sink")))], [Cluster("sink", sink.Port)]));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var peak = before;
        using var content = new StreamContent(new PatternStream(Size, _ => peak = Math.Max(peak, GC.GetTotalMemory(false))));
        using var response = await client.PostAsync("http://svc/upload", content);

        Assert.Equal(Size.ToString(), await response.Content.ReadAsStringAsync());
        // A buffered copy would take 50 MB; streaming keeps the heap growth to buffers and garbage between collections.
        Assert.True(peak - before < 40L * 1024 * 1024, $"heap grew by {(peak - before) / 1024 / 1024} MB");
    }

    [Fact]
    public async Task Forwarding_SlowResponseBody_FirstBytesArriveBeforeTheBodyEnds()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var streamer = await TestBackend.StartAsync("stream", handler: async context =>
        {
            await context.Response.WriteAsync("first;");
            await context.Response.Body.FlushAsync();
            await release.Task.WaitAsync(TimeSpan.FromSeconds(20));
            await context.Response.WriteAsync("last");
        });
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(ConfigOf([Outbound()], [Table("outbound", Host("svc", ["*"], Route("stream")))], [Cluster("stream", streamer.Port)]));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var response = await client.GetAsync("http://svc/events", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[6];
        await body.ReadExactlyAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("first;", System.Text.Encoding.ASCII.GetString(buffer));

        release.SetResult();
        using var reader = new StreamReader(body);
        Assert.Equal("last", await reader.ReadToEndAsync());
    }

    [Fact]
    public async Task Listener_MalformedRequest_Gets400AndTheListenerKeepsServing()
    {
        await using var backend = await TestBackend.StartAsync("b");
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(ConfigOf([Inbound("in", "app")], [], [Cluster("app", backend.Port)]));
        var endpoint = proxy.ListenerEndpoint("in");

        using (var tcp = new System.Net.Sockets.TcpClient())
        {
            await tcp.ConnectAsync(endpoint);
            var stream = tcp.GetStream();
            await stream.WriteAsync("GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n"u8.ToArray());
            var buffer = new byte[64];
            var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.StartsWith("HTTP/1.1 400", System.Text.Encoding.ASCII.GetString(buffer, 0, read));
        }

        using var client = Clients.Direct();
        Assert.Equal("b", await client.GetStringAsync(new Uri(proxy.ListenerUri("in"), "/")));
    }

    [Theory]
    [InlineData("POST / HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n", "HTTP/1.1 400")]
    [InlineData("CONNECT svc:443 HTTP/1.1\r\nHost: svc:443\r\n\r\n", "HTTP/1.1 404")]
    public async Task Listener_BrokenBodyOrTunnel_AnsweredWithoutReachingTheUpstreamBrokenly(string raw, string expectedStatusLine)
    {
        await using var backend = await TestBackend.StartAsync("b", handler: c => c.Request.Body.CopyToAsync(Stream.Null));
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(ConfigOf([Outbound()], [Table("outbound", Host("svc", ["*"], Route("c")))], [Cluster("c", backend.Port)]));

        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(proxy.ListenerEndpoint("outbound"));
        var stream = tcp.GetStream();
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(raw));
        var buffer = new byte[64];
        var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.StartsWith(expectedStatusLine, System.Text.Encoding.ASCII.GetString(buffer, 0, read));
    }

    [Fact]
    public async Task Listener_ClientDisconnectsMidRequest_ProxyKeepsServing()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var slow = await TestBackend.StartAsync("slow", handler: async context =>
        {
            started.TrySetResult();
            await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
        });
        await using var fast = await TestBackend.StartAsync("fast");
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(ConfigOf(
            [Outbound()],
            [Table("outbound", Host("slow", ["slow"], Route("slow")), Host("fast", ["fast"], Route("fast")))],
            [Cluster("slow", slow.Port), Cluster("fast", fast.Port)]));

        using (var client = Clients.ViaProxy(proxy.ListenerUri("outbound")))
        using (var cts = new CancellationTokenSource())
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "http://slow/");
            request.Headers.Add("x-test-id", "dc");
            var pending = client.SendAsync(request, cts.Token);
            await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
        }

        Assert.Equal(Bowline.Proxy.Pipeline.ResponseFlags.DownstreamConnectionTermination, await proxy.FlagsOfAsync("dc"));
        using var again = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        Assert.Equal("fast", await again.GetStringAsync("http://fast/"));
    }

    /// <summary>A read-only stream of <c>length</c> bytes generated on the fly, calling back as it is read.</summary>
    private sealed class PatternStream(long length, Action<long> onRead) : Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            buffer.AsSpan(offset, n).Fill((byte)'x');
            _position += n;
            onRead(_position);
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
