using System.Net;
using System.Net.WebSockets;
using System.Threading.Channels;
using Bowline.Api.Xds;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Bowline.Proxy.Tests.Infrastructure;

/// <summary>A control plane the test drives by hand: each proxy connection becomes an <see cref="XdsTestStream"/>.</summary>
internal sealed class FakeControlPlane : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Channel<XdsTestStream> _streams = Channel.CreateUnbounded<XdsTestStream>();

    private FakeControlPlane(WebApplication app) => _app = app;

    public Uri Url => new(_app.Urls.First());

    public static async Task<FakeControlPlane> StartAsync(int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(o => o.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        var plane = new FakeControlPlane(app);
        app.UseWebSockets();
        app.Map(XdsProtocol.Path, async context =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }

            var stream = new XdsTestStream(await context.WebSockets.AcceptWebSocketAsync());
            await plane._streams.Writer.WriteAsync(stream);
            await stream.Closed;
        });
        await app.StartAsync();
        return plane;
    }

    public async Task<XdsTestStream> NextStreamAsync() =>
        await _streams.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

    public async ValueTask DisposeAsync()
    {
        while (_streams.Reader.TryRead(out var stream))
        {
            stream.Abort();
        }

        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

internal sealed class XdsTestStream(WebSocket socket)
{
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Closed => _closed.Task;

    public async Task<DiscoveryRequest> ReceiveAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var message = new MemoryStream();
        var buffer = new byte[4096];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, cts.Token);
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return XdsJson.ReadRequest(message.ToArray()) ?? throw new InvalidOperationException("empty request");
            }
        }
    }

    /// <summary>Sends a response split over several WebSocket frames, as a large push would arrive.</summary>
    public async Task SendAsync(DiscoveryResponse response)
    {
        var bytes = XdsJson.Serialize(response);
        var half = bytes.Length / 2;
        await socket.SendAsync(bytes.AsMemory(0, half), WebSocketMessageType.Text, endOfMessage: false, CancellationToken.None);
        await socket.SendAsync(bytes.AsMemory(half), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
    }

    /// <summary>Drops the connection without a close handshake, like a crashed control plane.</summary>
    public void Abort()
    {
        socket.Abort();
        _closed.TrySetResult();
    }
}
