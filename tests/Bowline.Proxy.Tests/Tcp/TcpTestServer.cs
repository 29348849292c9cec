using System.Net;
using System.Net.Sockets;

namespace Bowline.Proxy.Tests.Tcp;

/// <summary>A loopback TCP server running <paramref name="handler"/> per connection (port 0), for the proxy's upstreams.</summary>
internal sealed class TcpTestServer : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly Func<Socket, Task> _handler;
    private readonly List<Task> _connections = [];
    private readonly Task _loop;
    private int _accepted;

    private TcpTestServer(Func<Socket, Task> handler)
    {
        _handler = handler;
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(512);
        _loop = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

    public int Accepted => Volatile.Read(ref _accepted);

    public static TcpTestServer Start(Func<Socket, Task> handler) => new(handler);

    /// <summary>Echoes every byte until the client's FIN, then closes.</summary>
    public static TcpTestServer Echo(string prefix = "") => Start(async s =>
    {
        var buffer = new byte[64 * 1024];
        var p = System.Text.Encoding.ASCII.GetBytes(prefix);
        while (true)
        {
            var n = await s.ReceiveAsync(buffer, SocketFlags.None);
            if (n == 0)
            {
                return;
            }

            if (p.Length > 0)
            {
                await s.SendAsync(p, SocketFlags.None);
            }

            await s.SendAsync(buffer.AsMemory(0, n), SocketFlags.None);
        }
    });

    private async Task AcceptAsync()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync();
            }
            catch (Exception)
            {
                return;
            }

            Interlocked.Increment(ref _accepted);
            lock (_connections)
            {
                _connections.Add(RunAsync(client));
            }
        }
    }

    private async Task RunAsync(Socket client)
    {
        using (client)
        {
            try
            {
                await _handler(client);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        await _loop;
        Task[] running;
        lock (_connections)
        {
            running = [.. _connections];
        }

        await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(10));
    }
}
