using System.Collections.Immutable;
using System.Net;
using System.Security.Cryptography;
using Bowline.Api.Xds;
using Bowline.Proxy.Telemetry.Metrics;
using Bowline.Proxy.Tests.Infrastructure;

namespace Bowline.Proxy.Tests.Http1;

/// <summary>What Bowline's HTTP/1.1 client puts on the wire upstream, read byte for byte by a raw upstream.</summary>
public sealed class Http1RequestHeadTests
{
    private static Task Ok(RawExchange e) => e.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");

    private static RawRequest Only(RawUpstream upstream) => Assert.Single(upstream.Requests);

    [Fact]
    public async Task AbsoluteFormDownstream_SentUpstreamInOriginFormWithTheClientsAuthorityAsHost()
    {
        await using var upstream = RawUpstream.Start(Ok);
        await using var proxy = await Http1Proxy.OutboundAsync(upstream.Port);

        var answer = await Http1Proxy.RawExchangeAsync(proxy.ListenerEndpoint("outbound"),
            "GET http://reviews:9080/a/b%20c?x=1&y=%2F HTTP/1.1\r\nHost: reviews:9080\r\nConnection: close\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200", answer, StringComparison.Ordinal);
        var request = Only(upstream);
        Assert.Equal("GET /a/b%20c?x=1&y=%2F HTTP/1.1", request.RequestLine);
        Assert.Equal("reviews:9080", request.Single("Host"));
    }

    [Fact]
    public async Task Http10RequestWithoutHost_SentWithTheEndpointsAuthorityAsHost()
    {
        await using var upstream = RawUpstream.Start(Ok);
        await using var proxy = await Http1Proxy.InboundAsync(upstream.Port);

        var answer = await Http1Proxy.RawExchangeAsync(proxy.ListenerEndpoint(Http1Proxy.Listener), "GET /old HTTP/1.0\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200", answer, StringComparison.Ordinal);
        Assert.Equal($"127.0.0.1:{upstream.Port}", Only(upstream).Single("Host"));
    }

    [Fact]
    public async Task RouteAuthorityRewrite_ReplacesTheHostLine()
    {
        await using var upstream = RawUpstream.Start(Ok);
        await using var proxy = await Http1Proxy.OutboundAsync(upstream.Port, r => r with { Rewrite = new RewritePolicy { Authority = "ratings.internal:7070" } });

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var response = await client.GetAsync(new Uri("http://svc:8080/p"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ratings.internal:7070", Only(upstream).Single("Host"));
    }

    [Fact]
    public async Task HopByHopAndConnectionListedHeaders_NotForwarded_TeTrailersKept_ForwardedProtoAdded()
    {
        await using var upstream = RawUpstream.Start(Ok);
        await using var proxy = await Http1Proxy.InboundAsync(upstream.Port);

        // Not "Connection: x-private, close": Kestrel keeps only "close" of such a list, so the proxy never sees x-private listed.
        using var client = Clients.Direct();
        using var message = new HttpRequestMessage(HttpMethod.Get, proxy.InboundUri("/h"));
        message.Headers.Connection.Add("x-private");
        message.Headers.TryAddWithoutValidation("x-private", "secret");
        message.Headers.TryAddWithoutValidation("Keep-Alive", "timeout=5");
        message.Headers.TryAddWithoutValidation("Proxy-Connection", "keep-alive");
        message.Headers.TryAddWithoutValidation("TE", "trailers, deflate");
        message.Headers.TryAddWithoutValidation("x-kept", "yes");
        using var response = await client.SendAsync(message);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var request = Only(upstream);
        Assert.Equal("GET /h HTTP/1.1", request.RequestLine);
        Assert.Equal(proxy.ListenerEndpoint(Http1Proxy.Listener).ToString(), request.Single("Host"));
        Assert.Empty(request.Lines("Connection"));
        Assert.Empty(request.Lines("x-private"));
        Assert.Empty(request.Lines("Keep-Alive"));
        Assert.Empty(request.Lines("Proxy-Connection"));
        Assert.Equal("trailers", request.Single("TE"));
        Assert.Equal("yes", request.Single("x-kept"));
        Assert.Equal("http", request.Single("x-forwarded-proto"));
    }

    [Fact]
    public async Task ClientsOwnForwardedProto_KeptNotDuplicated()
    {
        await using var upstream = RawUpstream.Start(Ok);
        await using var proxy = await Http1Proxy.InboundAsync(upstream.Port);

        using var client = Clients.Direct();
        using var request = new HttpRequestMessage(HttpMethod.Get, proxy.InboundUri("/"));
        request.Headers.Add("x-forwarded-proto", "https");
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("https", Only(upstream).Single("x-forwarded-proto"));
    }

    [Fact]
    public async Task OneNameOnSeveralDownstreamLines_SentAsOneCommaJoinedLine()
    {
        await using var upstream = RawUpstream.Start(Ok);
        await using var proxy = await Http1Proxy.InboundAsync(upstream.Port);

        await Http1Proxy.RawExchangeAsync(proxy.ListenerEndpoint(Http1Proxy.Listener),
            "GET / HTTP/1.1\r\nHost: app\r\nx-multi: a\r\nAccept: text/plain\r\nx-multi: b, c\r\nConnection: close\r\n\r\n");

        var request = Only(upstream);
        Assert.Equal(["a, b, c"], request.Lines("x-multi"));
        Assert.Equal(["text/plain"], request.Lines("Accept"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OutboundToMeshEndpoint_PeerMetadataLinesOnTheWire_WithOrWithoutRouteHeaderEdits(bool edits)
    {
        await using var upstream = RawUpstream.Start(Ok);
        var caller = Metrics.MetricsMesh.Productpage;
        var route = Configs.Route("app");
        if (edits)
        {
            route = route with { Headers = new HeaderPolicy { Request = new HeaderOperations { Set = ImmutableDictionary<string, string>.Empty.Add("x-edit", "1") } } };
        }

        var cluster = Configs.Cluster("app", upstream.Port);
        cluster = cluster with { Endpoints = [cluster.Endpoints[0] with { Workload = Metrics.MetricsMesh.Reviews }] };
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(Configs.ConfigOf(
            [Configs.Outbound() with { Workload = caller }], [Configs.Table("outbound", Configs.Host("svc", ["*"], route))], [cluster]));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        for (var i = 0; i < 2; i++)
        {
            using var response = await client.GetAsync("http://svc/");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        foreach (var request in upstream.Requests)
        {
            Assert.Equal(["sidecar~productpage-v1.default"], request.Lines(PeerMetadata.IdHeader));
            var metadata = Assert.Single(request.Lines(PeerMetadata.Header));
            Assert.Equal(caller.Name, PeerMetadata.Decode(metadata)?.Name);
            Assert.Equal(edits ? ["1"] : [], request.Lines("x-edit"));
        }
    }

    [Fact]
    public async Task RouteAndDestinationHeaderEdits_RemoveSetAdd_AppliedOnTheWire()
    {
        await using var upstream = RawUpstream.Start(Ok);
        static ImmutableDictionary<string, string> Map(params (string, string)[] pairs) => pairs.ToImmutableDictionary(p => p.Item1, p => p.Item2);
        await using var proxy = await Http1Proxy.OutboundAsync(upstream.Port, r => r with
        {
            Headers = new HeaderPolicy
            {
                Request = new HeaderOperations { Set = Map(("x-route-set", "r"), ("x-both", "route")), Add = Map(("x-added", "two")), Remove = ["x-gone"] },
            },
            Destinations = [new WeightedCluster
            {
                Cluster = "app",
                Headers = new HeaderPolicy { Request = new HeaderOperations { Set = Map(("x-dest-set", "d"), ("x-both", "dest")) } },
            }],
        });

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var message = new HttpRequestMessage(HttpMethod.Get, "http://svc/");
        message.Headers.Add("x-added", "one");
        message.Headers.Add("x-gone", "bye");
        message.Headers.Add("x-route-set", "client");
        using var response = await client.SendAsync(message);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var request = Only(upstream);
        Assert.Equal(["r"], request.Lines("x-route-set"));
        Assert.Equal(["d"], request.Lines("x-dest-set"));
        Assert.Equal(["route"], request.Lines("x-both"));
        Assert.Equal(["one, two"], request.Lines("x-added"));
        Assert.Empty(request.Lines("x-gone"));
        Assert.Equal(["svc"], request.Lines("Host"));
    }

    [Fact]
    public async Task ContentLengthBody_ForwardedByteExactWithItsLength()
    {
        var sent = RandomNumberGenerator.GetBytes(300_000);
        byte[]? received = null;
        await using var upstream = RawUpstream.Start(async e =>
        {
            received = await e.ReadBodyAsync();
            await Ok(e);
        });
        await using var proxy = await Http1Proxy.InboundAsync(upstream.Port);

        using var client = Clients.Direct();
        using var response = await client.PostAsync(proxy.InboundUri("/upload"), new ByteArrayContent(sent));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var request = Only(upstream);
        Assert.Equal("POST /upload HTTP/1.1", request.RequestLine);
        Assert.Equal("300000", request.Single("Content-Length"));
        Assert.Empty(request.Lines("Transfer-Encoding"));
        Assert.Equal(SHA256.HashData(sent), SHA256.HashData(received!));
    }

    [Fact]
    public async Task ChunkedDownstreamBody_SentChunkedAndReassembledExactly()
    {
        var sent = RandomNumberGenerator.GetBytes(1024 * 1024);
        byte[]? received = null;
        await using var upstream = RawUpstream.Start(async e =>
        {
            received = await e.ReadBodyAsync();
            await Ok(e);
        });
        await using var proxy = await Http1Proxy.InboundAsync(upstream.Port);

        using var client = Clients.Direct();
        // A stream of unknown length: HttpClient sends it chunked, so the proxy has no Content-Length to forward.
        using var content = new StreamContent(new UnknownLengthStream(sent));
        using var response = await client.PostAsync(proxy.InboundUri("/upload"), content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var request = Only(upstream);
        Assert.Equal("chunked", request.Single("Transfer-Encoding"));
        Assert.Empty(request.Lines("Content-Length"));
        Assert.Equal(sent.Length, received!.Length);
        Assert.Equal(SHA256.HashData(sent), SHA256.HashData(received));
    }

    /// <summary>Reads like a MemoryStream in uneven pieces but cannot tell its length.</summary>
    private sealed class UnknownLengthStream(byte[] data) : Stream
    {
        private int _position;
        private int _turn;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            // Uneven pieces (1 byte up to a full buffer), so chunk sizes vary.
            var n = Math.Min(Math.Min(count, data.Length - _position), 1 + (_turn++ * 7919 % 40_000));
            data.AsSpan(_position, n).CopyTo(buffer.AsSpan(offset));
            _position += n;
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
