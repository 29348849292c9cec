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
}
