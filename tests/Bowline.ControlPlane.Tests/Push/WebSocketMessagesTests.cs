using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using Bowline.ControlPlane.Push;

namespace Bowline.ControlPlane.Tests.Push;

/// <summary>The stream's reused receive buffer: whole messages out, one read or many, never another message's bytes.</summary>
public sealed class WebSocketMessagesTests
{
    [Fact]
    public async Task ReadAsync_OneFrameThenManyFramesThenClose_WholeMessagesThenNull()
    {
        var (server, client, dispose) = await PairAsync();
        await using var pair = dispose;
        var buffer = new byte[8192];
        var big = Enumerable.Range(0, 20_000).Select(i => (byte)('a' + (i % 26))).ToArray();

        await client.SendAsync("first"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        await client.SendAsync(big.AsMemory(0, 7000), WebSocketMessageType.Text, false, CancellationToken.None);
        await client.SendAsync(big.AsMemory(7000), WebSocketMessageType.Text, true, CancellationToken.None);
        await client.SendAsync("x"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);

        Assert.Equal("first"u8.ToArray(), await WebSocketMessages.ReadAsync(server, buffer, 1 << 20, CancellationToken.None));
        Assert.Equal(big, await WebSocketMessages.ReadAsync(server, buffer, 1 << 20, CancellationToken.None));
        Assert.Equal("x"u8.ToArray(), await WebSocketMessages.ReadAsync(server, buffer, 1 << 20, CancellationToken.None));
        await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        Assert.Null(await WebSocketMessages.ReadAsync(server, buffer, 1 << 20, CancellationToken.None));
    }

    [Theory]
    [InlineData(2000, true)]   // arrives in one read
    [InlineData(20_000, false)] // gathered over several reads
    public async Task ReadAsync_Oversized_Throws(int size, bool oneFrame)
    {
        var (server, client, dispose) = await PairAsync();
        await using var pair = dispose;
        var message = new byte[size];
        if (oneFrame)
        {
            await client.SendAsync(message, WebSocketMessageType.Text, true, CancellationToken.None);
        }
        else
        {
            await client.SendAsync(message.AsMemory(0, size / 2), WebSocketMessageType.Text, false, CancellationToken.None);
            await client.SendAsync(message.AsMemory(size / 2), WebSocketMessageType.Text, true, CancellationToken.None);
        }

        await Assert.ThrowsAsync<InvalidDataException>(() => WebSocketMessages.ReadAsync(server, new byte[8192], 1000, CancellationToken.None));
    }

    private static async Task<(WebSocket Server, WebSocket Client, IAsyncDisposable Dispose)> PairAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var connecting = new TcpClient();
        await connecting.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        var accepted = await listener.AcceptTcpClientAsync();
        var server = WebSocket.CreateFromStream(accepted.GetStream(), new WebSocketCreationOptions { IsServer = true });
        var client = WebSocket.CreateFromStream(connecting.GetStream(), new WebSocketCreationOptions { IsServer = false });
        return (server, client, new Disposer(() =>
        {
            server.Dispose();
            client.Dispose();
            accepted.Dispose();
            connecting.Dispose();
        }));
    }

    private sealed class Disposer(Action dispose) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            dispose();
            return ValueTask.CompletedTask;
        }
    }
}
