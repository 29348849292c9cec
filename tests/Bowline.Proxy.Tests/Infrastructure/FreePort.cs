using System.Net;
using System.Net.Sockets;

namespace Bowline.Proxy.Tests.Infrastructure;

internal static class FreePort
{
    /// <summary>A loopback port nothing listens on (bound and released at once; the OS does not hand it out again soon).</summary>
    public static int Get()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>
    /// A loopback port that refuses connections for as long as the result lives: bound but not listening, so no other
    /// test's server (nor a proxy listener on port 0) can be handed the port in the meantime, as with <see cref="Get"/>.
    /// </summary>
    public static RefusedPort Refused()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return new RefusedPort(socket);
    }
}

internal sealed class RefusedPort(Socket socket) : IDisposable
{
    public int Port { get; } = ((IPEndPoint)socket.LocalEndPoint!).Port;

    public void Dispose() => socket.Dispose();
}
