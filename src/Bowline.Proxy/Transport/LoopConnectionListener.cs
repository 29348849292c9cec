using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace Bowline.Proxy.Transport;

/// <summary>
/// A listening socket on an event loop: accepts until EAGAIN, then waits for the next readable event. Each accepted
/// connection goes to a loop (the only one, for a proxy on one core).
/// </summary>
internal sealed class LoopConnectionListener : IConnectionListener
{
    private readonly LoopSocket _socket;

    private LoopConnectionListener(LoopSocket socket, EndPoint endpoint)
    {
        _socket = socket;
        EndPoint = endpoint;
    }

    public EndPoint EndPoint { get; }

    /// <exception cref="SocketException">The address is in use or not available.</exception>
    public static LoopConnectionListener Bind(IPEndPoint endpoint, int backlog)
    {
        var fd = Libc.Listen(endpoint, backlog);
        try
        {
            return new LoopConnectionListener(LoopSocket.Adopt(fd), Libc.LocalEndPoint(fd) ?? endpoint);
        }
        catch
        {
            Libc.close(fd);
            throw;
        }
    }

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var fd = _socket.Accept(out var errno);
            if (fd >= 0)
            {
                var connection = new LoopConnection(LoopSocket.Adopt(fd));
                connection.Start();
                return connection;
            }

            switch (errno)
            {
                case Libc.EAGAIN:
                    try
                    {
                        await _socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken);
                    }
                    catch (SocketException) when (_socket.IsClosed)
                    {
                        return null;
                    }

                    break;
                case Libc.EBADF:
                    // Unbound.
                    return null;
                case Libc.EMFILE or Libc.ENFILE or Libc.ENOBUFS or Libc.ENOMEM:
                    // Out of descriptors or memory: the pending connections wait in the backlog until some close.
                    await Task.Delay(10, cancellationToken);
                    break;
                default:
                    // The client gave up between SYN and accept (ECONNABORTED) and the like: the next one.
                    break;
            }
        }
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
