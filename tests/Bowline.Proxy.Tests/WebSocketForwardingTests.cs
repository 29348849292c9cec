using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Bowline.Proxy.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using static Bowline.Proxy.Tests.Infrastructure.Configs;

namespace Bowline.Proxy.Tests;

/// <summary>WebSocket (HTTP/1.1 Upgrade) through a client sidecar's outbound listener and a server sidecar's inbound one.</summary>
public sealed class WebSocketForwardingTests
{
    [Fact]
    public async Task WebSocket_ThroughTwoProxies_EchoesAThousandMessagesAndCloses()
    {
        await using var mesh = await WebSocketMesh.StartAsync();
        using var socket = new ClientWebSocket();
        // ClientWebSocket would tunnel through an HTTP proxy with CONNECT; it speaks to the client sidecar's outbound
        // port instead, naming the service in Host (the raw test below sends the absolute form HTTP_PROXY clients use).
        await mesh.ConnectAsync(socket, "/ws");

        var random = new Random(7);
        var received = new byte[300_000];
        for (var i = 0; i < 1000; i++)
        {
            // Mostly small frames, some of a few KB, a few far larger than any copy buffer.
            var size = i % 100 == 0 ? 200_000 + i : i % 10 == 0 ? random.Next(1_000, 20_000) : random.Next(0, 200);
            var payload = new byte[size];
            random.NextBytes(payload);
            var type = i % 2 == 0 ? WebSocketMessageType.Binary : WebSocketMessageType.Text;
            if (type == WebSocketMessageType.Text)
            {
                payload = Encoding.UTF8.GetBytes(Convert.ToBase64String(payload)[..size]);
            }

            await socket.SendAsync(payload, type, endOfMessage: true, CancellationToken.None);
            var length = 0;
            WebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(new ArraySegment<byte>(received, length, received.Length - length), CancellationToken.None)
                    .WaitAsync(TimeSpan.FromSeconds(30));
                length += result.Count;
            }
            while (!result.EndOfMessage);

            Assert.Equal(type, result.MessageType);
            Assert.True(payload.AsSpan().SequenceEqual(received.AsSpan(0, length)), $"message {i} ({size} bytes) came back different");
        }

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(WebSocketState.Closed, socket.State);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
        Assert.Equal("server-bye", socket.CloseStatusDescription);
    }

    [Fact]
    public async Task WebSocket_ServerSpeaksFirst_ReachesTheClientUnprompted()
    {
        await using var mesh = await WebSocketMesh.StartAsync();
        using var socket = new ClientWebSocket();
        await mesh.ConnectAsync(socket, "/greet");

        var buffer = new byte[64];
        var result = await socket.ReceiveAsync(new ArraySegment<byte>(buffer), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("welcome", Encoding.UTF8.GetString(buffer, 0, result.Count));
        result = await socket.ReceiveAsync(new ArraySegment<byte>(buffer), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, result.CloseStatus);
    }

    [Fact]
    public async Task WebSocket_Http2ExtendedConnect_TunnelledAsAnHttp11UpgradeUpstream()
    {
        await using var mesh = await WebSocketMesh.StartAsync();
        using var socket = new ClientWebSocket();
        socket.Options.HttpVersion = HttpVersion.Version20;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.SetRequestHeader("Host", "chat:8080");
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler { UseProxy = false });
        await socket.ConnectAsync(new Uri($"ws://{mesh.OutboundEndpoint}/ws"), invoker, CancellationToken.None);

        // 200 to the extended CONNECT: the client spoke HTTP/2 to the sidecar (an HTTP/1.1 upgrade answers 101).
        Assert.Equal(HttpStatusCode.OK, socket.HttpStatusCode);
        var buffer = new byte[4096];
        for (var i = 0; i < 20; i++)
        {
            var sent = Encoding.UTF8.GetBytes($"h2 message {i}");
            await socket.SendAsync(sent, WebSocketMessageType.Text, true, CancellationToken.None);
            var result = await socket.ReceiveAsync(new ArraySegment<byte>(buffer), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(sent, buffer[..result.Count]);
        }

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("server-bye", socket.CloseStatusDescription);
    }

    [Fact]
    public async Task Upgrade_RawRequests_101FlowsBackAndARefusalIsAnOrdinaryResponse()
    {
        await using var mesh = await WebSocketMesh.StartAsync();
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(mesh.OutboundEndpoint);
        var stream = tcp.GetStream();

        // Refused (the app answers 403 without upgrading): the client gets the 403 and its body; the connection stays usable.
        await stream.WriteAsync(Encoding.ASCII.GetBytes(UpgradeRequest("/refuse")));
        var refused = await ReadHeadAsync(stream);
        Assert.StartsWith("HTTP/1.1 403", refused);
        Assert.Contains("content-length: 7", refused, StringComparison.OrdinalIgnoreCase);
        var body = new byte[7];
        await stream.ReadExactlyAsync(body);
        Assert.Equal("refused", Encoding.ASCII.GetString(body));

        await stream.WriteAsync(Encoding.ASCII.GetBytes(UpgradeRequest("/ws")));
        var accepted = await ReadHeadAsync(stream);
        Assert.StartsWith("HTTP/1.1 101", accepted);
        Assert.Contains("upgrade: websocket", accepted, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("connection: upgrade", accepted, StringComparison.OrdinalIgnoreCase);
        // The accept key of RFC 6455's example key: computed by the app, carried back unchanged by both proxies.
        Assert.Contains("sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", accepted, StringComparison.OrdinalIgnoreCase);
    }

    private static string UpgradeRequest(string path) =>
        $"GET http://chat:8080{path} HTTP/1.1\r\nHost: chat:8080\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

    private static async Task<string> ReadHeadAsync(NetworkStream stream)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(one).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            if (read == 0)
            {
                throw new EndOfStreamException("connection closed in the response head: " + head);
            }

            head.Append((char)one[0]);
        }

        return head.ToString();
    }

    /// <summary>An echo app (ASP.NET Core WebSockets) behind a server sidecar, reached through a client sidecar.</summary>
    private sealed class WebSocketMesh : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ProxyUnderTest _server;
        private readonly ProxyUnderTest _client;

        private WebSocketMesh(WebApplication app, ProxyUnderTest server, ProxyUnderTest client)
        {
            _app = app;
            _server = server;
            _client = client;
        }

        public Uri Outbound => _client.ListenerUri("outbound");

        public IPEndPoint OutboundEndpoint => _client.ListenerEndpoint("outbound");

        public Task ConnectAsync(ClientWebSocket socket, string path)
        {
            socket.Options.Proxy = null;
            socket.Options.SetRequestHeader("Host", "chat:8080");
            return socket.ConnectAsync(new Uri($"ws://{OutboundEndpoint}{path}"), CancellationToken.None);
        }

        public static async Task<WebSocketMesh> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            app.UseWebSockets();
            app.Run(EchoAsync);
            await app.StartAsync();
            var appPort = new Uri(app.Urls.First()).Port;

            var server = new ProxyUnderTest();
            await server.ApplyAsync(ConfigOf([Inbound("in", "app")], [], [Cluster("app", appPort)]));
            var client = new ProxyUnderTest();
            await client.ApplyAsync(ConfigOf(
                [Outbound()],
                [Table("outbound", Host("chat", ["chat:8080"], Route("chat", new Api.Xds.RouteMatch { Uri = Prefix("/") })))],
                [Cluster("chat", server.ListenerEndpoint("in").Port)]));
            return new WebSocketMesh(app, server, client);
        }

        private static async Task EchoAsync(HttpContext context)
        {
            if (!context.WebSockets.IsWebSocketRequest || context.Request.Path == "/refuse")
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                context.Response.ContentLength = 7;
                await context.Response.WriteAsync("refused");
                return;
            }

            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            if (context.Request.Path == "/greet")
            {
                await socket.SendAsync("welcome"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
                await socket.CloseAsync(WebSocketCloseStatus.PolicyViolation, "go away", CancellationToken.None);
                return;
            }

            var buffer = new byte[300_000];
            while (true)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                    length += result.Count;
                }
                while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "server-bye", CancellationToken.None);
                    return;
                }

                await socket.SendAsync(buffer.AsMemory(0, length), result.MessageType, true, CancellationToken.None);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _client.DisposeAsync();
            await _server.DisposeAsync();
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
