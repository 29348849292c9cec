using System.Net;
using Bowline.Api.Xds;
using Bowline.Proxy.Listeners;
using Bowline.Proxy.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using static Bowline.Proxy.Tests.Infrastructure.Configs;

namespace Bowline.Proxy.Tests;

/// <summary>gRPC through a client sidecar (outbound, h2c sniffed) and a server sidecar (inbound, HTTP/2 cluster) to an h2c app.</summary>
public sealed class GrpcForwardingTests
{
    private const string Authority = "greeter:50051";

    [Fact]
    public async Task Grpc_Unary_ThroughTwoProxies_KeepsMessageStatusAndTrailers()
    {
        await using var mesh = await GrpcMesh.StartAsync(GreeterAsync);
        using var client = Clients.Direct(HttpVersion.Version20);

        using var ok = await client.SendAsync(GrpcWire.Request(mesh.Outbound, Authority, "/demo.Greeter/Say", GrpcWire.Unary("mesh")));
        var okBody = await ok.Content.ReadAsStreamAsync();
        Assert.Equal("hello mesh", await GrpcWire.ReadAsync(okBody));
        Assert.Null(await GrpcWire.ReadAsync(okBody));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("application/grpc", ok.Content.Headers.ContentType?.MediaType);
        Assert.Equal("0", ok.TrailingHeaders.GetValues("grpc-status").Single());
        Assert.Equal("yes", ok.TrailingHeaders.GetValues("x-app-trailer").Single());

        using var failed = await client.SendAsync(GrpcWire.Request(mesh.Outbound, Authority, "/demo.Greeter/Fail", GrpcWire.Unary("x")));
        await failed.Content.CopyToAsync(Stream.Null);
        Assert.Equal(HttpStatusCode.OK, failed.StatusCode);
        Assert.Equal("5", failed.TrailingHeaders.GetValues("grpc-status").Single());
        Assert.Equal("no%20such%20greeting", failed.TrailingHeaders.GetValues("grpc-message").Single());
    }

    [Fact]
    public async Task Grpc_ServerStreaming_EachMessageArrivesBeforeTheStreamEnds()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var mesh = await GrpcMesh.StartAsync(async context =>
        {
            context.Response.ContentType = "application/grpc";
            await context.Response.Body.WriteAsync(GrpcWire.Frame("1"));
            await context.Response.Body.FlushAsync();
            // The next messages wait until the client has seen the first: nothing may sit in a proxy buffer.
            await release.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await context.Response.Body.WriteAsync(GrpcWire.Frame("2"));
            await context.Response.Body.WriteAsync(GrpcWire.Frame("3"));
            context.Response.AppendTrailer("grpc-status", "0");
        });
        using var client = Clients.Direct(HttpVersion.Version20);

        using var response = await client.SendAsync(
            GrpcWire.Request(mesh.Outbound, Authority, "/demo.Greeter/Count", GrpcWire.Unary("3")), HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsStreamAsync();
        Assert.Equal("1", await GrpcWire.ReadAsync(body).WaitAsync(TimeSpan.FromSeconds(20)));
        release.SetResult();
        Assert.Equal("2", await GrpcWire.ReadAsync(body));
        Assert.Equal("3", await GrpcWire.ReadAsync(body));
        Assert.Null(await GrpcWire.ReadAsync(body));
        Assert.Equal("0", response.TrailingHeaders.GetValues("grpc-status").Single());
    }

    [Fact]
    public async Task Grpc_BidiStreaming_EchoesMessageByMessageBothWays()
    {
        await using var mesh = await GrpcMesh.StartAsync(async context =>
        {
            context.Response.ContentType = "application/grpc";
            await context.Response.StartAsync();
            await context.Response.Body.FlushAsync();
            while (await GrpcWire.ReadAsync(context.Request.Body) is { } message)
            {
                await context.Response.Body.WriteAsync(GrpcWire.Frame("echo:" + message));
                await context.Response.Body.FlushAsync();
            }

            context.Response.AppendTrailer("grpc-status", "0");
        });
        using var client = Clients.Direct(HttpVersion.Version20);
        var requestBody = new GrpcWire.DuplexContent();

        using var response = await client.SendAsync(
            GrpcWire.Request(mesh.Outbound, Authority, "/demo.Greeter/Echo", requestBody), HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsStreamAsync();
        for (var i = 0; i < 20; i++)
        {
            // The next message is sent only once the echo of this one came back through both proxies.
            requestBody.Send($"m{i}");
            Assert.Equal($"echo:m{i}", await GrpcWire.ReadAsync(body).WaitAsync(TimeSpan.FromSeconds(20)));
        }

        requestBody.Complete();
        Assert.Null(await GrpcWire.ReadAsync(body));
        Assert.Equal("0", response.TrailingHeaders.GetValues("grpc-status").Single());
    }

    [Fact]
    public async Task Grpc_ClientStreaming_AllMessagesReachTheApp()
    {
        await using var mesh = await GrpcMesh.StartAsync(async context =>
        {
            var count = 0;
            while (await GrpcWire.ReadAsync(context.Request.Body) is not null)
            {
                count++;
            }

            context.Response.ContentType = "application/grpc";
            await context.Response.Body.WriteAsync(GrpcWire.Frame(count.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            context.Response.AppendTrailer("grpc-status", "0");
        });
        using var client = Clients.Direct(HttpVersion.Version20);
        var requestBody = new GrpcWire.DuplexContent();
        var call = client.SendAsync(GrpcWire.Request(mesh.Outbound, Authority, "/demo.Greeter/Sum", requestBody));
        for (var i = 0; i < 50; i++)
        {
            requestBody.Send(new string('x', i * 100));
        }

        requestBody.Complete();
        using var response = await call;
        Assert.Equal("50", await GrpcWire.ReadAsync(await response.Content.ReadAsStreamAsync()));
        Assert.Equal("0", response.TrailingHeaders.GetValues("grpc-status").Single());
    }

    [Theory]
    [InlineData("unknown:50051", "12", null)] // no route: 404 → UNIMPLEMENTED
    [InlineData("down:50051", "14", "upstream connect error or disconnect/reset before headers. reset reason: connection failure")]
    public async Task Grpc_ProxyOwnReplies_AreTrailersOnlyWithGrpcStatus(string authority, string grpcStatus, string? message)
    {
        await using var mesh = await GrpcMesh.StartAsync(GreeterAsync);
        using var client = Clients.Direct(HttpVersion.Version20);

        using var response = await client.SendAsync(GrpcWire.Request(mesh.Outbound, authority, "/demo.Greeter/Say", GrpcWire.Unary("x")));
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(body);
        Assert.Equal("application/grpc", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(grpcStatus, ProxyForwardingTests.Header(response, "grpc-status"));
        Assert.Equal(message is null ? null : Grpc.GrpcProtocol.EncodeMessage(message), response.Headers.TryGetValues("grpc-message", out var m) ? m.Single() : null);
    }

    [Fact]
    public async Task Grpc_TimeoutHeader_BoundsTheCallAndAnswersDeadlineExceeded()
    {
        var never = new TaskCompletionSource();
        await using var mesh = await GrpcMesh.StartAsync(async context => await never.Task.WaitAsync(context.RequestAborted));
        using var client = Clients.Direct(HttpVersion.Version20);

        // No route timeout: the client's grpc-timeout alone bounds the call (Istio's max_grpc_timeout 0 = unbounded cap).
        using var request = GrpcWire.Request(mesh.Outbound, Authority, "/demo.Greeter/Say", GrpcWire.Unary("x"));
        request.Headers.TryAddWithoutValidation("grpc-timeout", "200m");
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("4", ProxyForwardingTests.Header(response, "grpc-status"));
    }

    [Fact]
    public async Task Grpc_RetryOnUnavailable_RetriesATrailersOnlyFailure()
    {
        var calls = 0;
        await using var mesh = await GrpcMesh.StartAsync(
            async context =>
            {
                context.Response.ContentType = "application/grpc";
                if (Interlocked.Increment(ref calls) == 1)
                {
                    context.Response.Headers["grpc-status"] = "14";
                    return;
                }

                await GreeterAsync(context);
            },
            new RetryPolicy { Attempts = 2, RetryOn = "cancelled,deadline-exceeded,resource-exhausted,unavailable" });
        using var client = Clients.Direct(HttpVersion.Version20);

        using var response = await client.SendAsync(GrpcWire.Request(mesh.Outbound, Authority, "/demo.Greeter/Say", GrpcWire.Unary("again")));
        Assert.Equal("hello again", await GrpcWire.ReadAsync(await response.Content.ReadAsStreamAsync()));
        Assert.Equal("0", response.TrailingHeaders.GetValues("grpc-status").Single());
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task Grpc_QuietBidiStream_OutlivesTheMinimumBodyRateThatCutsAPlainSlowBody()
    {
        var limits = new ListenerLimits { MinRequestBodyDataRate = new MinDataRate(1000, TimeSpan.FromSeconds(2)) };
        await using var mesh = await GrpcMesh.StartAsync(
            async context =>
            {
                if (context.Request.ContentType != "application/grpc")
                {
                    await context.Request.Body.CopyToAsync(Stream.Null);
                    return;
                }

                // The app exempts its stream as grpc-dotnet does; the proxies must do the same for theirs.
                Bowline.Proxy.Grpc.GrpcStreams.AllowQuietRequestBody(context);
                context.Response.ContentType = "application/grpc";
                await context.Response.StartAsync();
                await context.Response.Body.FlushAsync();
                while (await GrpcWire.ReadAsync(context.Request.Body) is { } message)
                {
                    await context.Response.Body.WriteAsync(GrpcWire.Frame("echo:" + message));
                    await context.Response.Body.FlushAsync();
                }

                context.Response.AppendTrailer("grpc-status", "0");
            },
            limits: limits);
        using var client = Clients.Direct(HttpVersion.Version20);
        var requestBody = new GrpcWire.DuplexContent();
        using var response = await client.SendAsync(
            GrpcWire.Request(mesh.Outbound, Authority, "/demo.Greeter/Echo", requestBody), HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsStreamAsync();
        requestBody.Send("before");
        Assert.Equal("echo:before", await GrpcWire.ReadAsync(body).WaitAsync(TimeSpan.FromSeconds(20)));

        // The clock of this test: a plain request trickling its body on the same listener, started after the stream
        // went quiet, is cut by the rate limit — so the quiet stream's grace period has run out as well.
        using (var slow = new System.Net.Sockets.TcpClient())
        {
            await slow.ConnectAsync(mesh.OutboundEndpoint);
            var stream = slow.GetStream();
            await stream.WriteAsync("POST / HTTP/1.1\r\nHost: greeter:50051\r\nContent-Length: 100000\r\n\r\nabc"u8.ToArray());
            var buffer = new byte[1024];
            try
            {
                while (await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(60)) > 0)
                {
                }
            }
            catch (IOException)
            {
                // Reset: cut off all the same.
            }
        }

        requestBody.Send("after");
        Assert.Equal("echo:after", await GrpcWire.ReadAsync(body).WaitAsync(TimeSpan.FromSeconds(20)));
        requestBody.Complete();
        Assert.Null(await GrpcWire.ReadAsync(body));
        Assert.Equal("0", response.TrailingHeaders.GetValues("grpc-status").Single());
    }

    private static async Task GreeterAsync(HttpContext context)
    {
        var name = await GrpcWire.ReadAsync(context.Request.Body);
        context.Response.ContentType = "application/grpc";
        if (context.Request.Path == "/demo.Greeter/Fail")
        {
            await context.Response.StartAsync();
            await context.Response.Body.FlushAsync();
            context.Response.AppendTrailer("grpc-status", "5");
            context.Response.AppendTrailer("grpc-message", "no%20such%20greeting");
            return;
        }

        await context.Response.Body.WriteAsync(GrpcWire.Frame("hello " + name));
        context.Response.AppendTrailer("grpc-status", "0");
        context.Response.AppendTrailer("x-app-trailer", "yes");
    }

    /// <summary>app (h2c) ← server sidecar inbound (HTTP/2 cluster) ← client sidecar outbound (HTTP/2 cluster to the inbound).</summary>
    private sealed class GrpcMesh : IAsyncDisposable
    {
        private readonly TestBackend _app;
        private readonly ProxyUnderTest _server;
        private readonly ProxyUnderTest _client;

        private GrpcMesh(TestBackend app, ProxyUnderTest server, ProxyUnderTest client)
        {
            _app = app;
            _server = server;
            _client = client;
        }

        public Uri Outbound => _client.ListenerUri("outbound");

        public System.Net.IPEndPoint OutboundEndpoint => _client.ListenerEndpoint("outbound");

        public static async Task<GrpcMesh> StartAsync(Func<HttpContext, Task> handler, RetryPolicy? retries = null, ListenerLimits? limits = null)
        {
            var app = await TestBackend.StartAsync("app", HttpProtocols.Http2, handler);
            var server = new ProxyUnderTest(limits: limits);
            await server.ApplyAsync(ConfigOf([Inbound("in", "app")], [], [Http2Cluster("app", app.Port)]));
            var client = new ProxyUnderTest(limits: limits);
            var route = Route("greeter") with { Retries = retries };
            await client.ApplyAsync(ConfigOf(
                [Outbound()],
                [Table("outbound", Host("greeter", [Authority], route), Host("down", ["down:50051"], Route("down")))],
                [Http2Cluster("greeter", server.ListenerEndpoint("in").Port), Http2Cluster("down", FreePort.Get())]));
            return new GrpcMesh(app, server, client);
        }

        public async ValueTask DisposeAsync()
        {
            await _client.DisposeAsync();
            await _server.DisposeAsync();
            await _app.DisposeAsync();
        }
    }
}
