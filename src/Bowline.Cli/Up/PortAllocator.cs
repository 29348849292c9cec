using System.Net;
using System.Net.Sockets;

namespace Bowline.Cli.Up;

/// <summary>
/// Picks free ports on 127.0.0.1 by listening on port 0. Every socket stays open until <see cref="Dispose"/>, so the
/// ports handed out in one plan are distinct; release them just before starting the processes that bind them.
/// </summary>
internal sealed class PortAllocator : IDisposable
{
    private readonly List<Socket> _held = [];

    public int Allocate()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        // Listening, not just bound: .NET sets SO_REUSEADDR, and only a listening socket keeps others off the port.
        socket.Listen(1);
        _held.Add(socket);
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>Whether a listener could bind 127.0.0.1:<paramref name="port"/> right now.</summary>
    public static bool IsFree(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        foreach (var socket in _held)
        {
            socket.Dispose();
        }
        _held.Clear();
    }
}
