using System.Net;
using Bowline.Proxy.Transport;
using Microsoft.AspNetCore.Connections;

namespace Bowline.Proxy.Tests.Transport;

public sealed class LoopTransportTests
{
    [Fact]
    public async Task Accept_ClientConnects_ConnectionCarriesBytesBothWays()
    {
        var factory = new LoopTransportFactory();
        await using var listener = await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0));
        var accept = listener.AcceptAsync().AsTask();
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync((IPEndPoint)listener.EndPoint);
        var connection = await accept.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(connection);
        await client.GetStream().WriteAsync("ping"u8.ToArray());
        var read = await connection!.Transport.Input.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("ping", System.Text.Encoding.ASCII.GetString(System.Buffers.BuffersExtensions.ToArray(read.Buffer)));
        connection.Transport.Input.AdvanceTo(read.Buffer.End);
        await connection.Transport.Output.WriteAsync("pong"u8.ToArray());
        var buffer = new byte[4];
        await client.GetStream().ReadExactlyAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("pong", System.Text.Encoding.ASCII.GetString(buffer));
        await connection.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
    }
}
