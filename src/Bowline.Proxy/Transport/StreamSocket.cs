using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Bowline.Proxy.Transport;

/// <summary>
/// A connected TCP socket as the upstream HTTP/1.1 client uses it: the event-loop socket on Linux x64, System.Net's
/// socket elsewhere or when BOWLINE_TRANSPORT=sockets (a way back, and the other side of an A/B measurement).
/// </summary>
internal abstract class StreamSocket : IDisposable
{
    private const string Variable = "BOWLINE_TRANSPORT";

    /// <summary>Whether the proxy's sockets (downstream listeners and upstream HTTP/1.1) run on Bowline's event loops.</summary>
    public static bool UseEventLoop { get; } = OperatingSystem.IsLinux()
        && RuntimeInformation.ProcessArchitecture == Architecture.X64
        && Environment.GetEnvironmentVariable(Variable) != "sockets";

    /// <exception cref="SocketException">The connection failed (refused, unreachable...).</exception>
    public static async ValueTask<StreamSocket> ConnectAsync(EndPoint endpoint, CancellationToken token)
    {
        if (!UseEventLoop)
        {
            return await DotnetSocket.OpenAsync(endpoint, token);
        }

        if (endpoint is IPEndPoint ip)
        {
            return await LoopSocket.ConnectAsync(ip, token);
        }

        // A name: every address in turn, as Socket.ConnectAsync does for a DnsEndPoint.
        var dns = (DnsEndPoint)endpoint;
        var addresses = await Dns.GetHostAddressesAsync(dns.Host, token);
        SocketException? last = null;
        foreach (var address in addresses)
        {
            try
            {
                return await LoopSocket.ConnectAsync(new IPEndPoint(address, dns.Port), token);
            }
            catch (SocketException e)
            {
                last = e;
            }
        }

        throw last ?? new SocketException((int)SocketError.HostNotFound);
    }

    public abstract ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken token);

    public abstract ValueTask SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken token);

    /// <summary>Data or an end of stream is waiting; for an idle pooled connection, the upstream closed or wrote.</summary>
    public abstract bool Readable();

    /// <summary>The socket as a stream that does not own it (request bodies are copied into streams).</summary>
    public abstract Stream AsStream();

    public abstract void Dispose();

    private sealed class DotnetSocket(Socket socket) : StreamSocket
    {
        public static async ValueTask<StreamSocket> OpenAsync(EndPoint endpoint, CancellationToken token)
        {
            var socket = endpoint is IPEndPoint ip
                ? new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
                : new Socket(SocketType.Stream, ProtocolType.Tcp);
            socket.NoDelay = true;
            try
            {
                await socket.ConnectAsync(endpoint, token);
                return new DotnetSocket(socket);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken token) => socket.ReceiveAsync(buffer, SocketFlags.None, token);

        public override async ValueTask SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken token)
        {
            while (!bytes.IsEmpty)
            {
                var sent = await socket.SendAsync(bytes, SocketFlags.None, token);
                bytes = bytes[sent..];
            }
        }

        public override bool Readable() => socket.Poll(0, SelectMode.SelectRead);

        public override Stream AsStream() => new NetworkStream(socket, ownsSocket: false);

        public override void Dispose() => socket.Dispose();
    }
}
