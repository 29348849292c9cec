using System.Net;
using System.Net.Sockets;
using Bowline.Proxy.Config;
using Microsoft.Extensions.Logging;

namespace Bowline.Proxy.Listeners.Tcp;

/// <summary>
/// A TCP / TLS passthrough listener: a plain socket accept loop handing each connection to <see cref="TcpProxy"/>.
/// Not Kestrel: its socket transport closes both directions when the application completes its output, so an upstream
/// that half-closes first would cut off the rest of the client's upload; here each direction is shut down on its own.
/// </summary>
internal sealed partial class TcpListenerServer : IListenerServer
{
    private const int Backlog = 512;

    private readonly TcpProxy _proxy;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _abort = new();
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Socket? _socket;
    private Task _acceptLoop = Task.CompletedTask;
    private int _active;
    private volatile bool _stopping;

    public TcpListenerServer(int id, CompiledListener listener, TcpProxy proxy, ILogger logger)
    {
        Id = id;
        Name = listener.Name;
        Address = listener.Address;
        ConfiguredPort = listener.Port;
        _proxy = proxy;
        _logger = logger;
    }

    public int Id { get; }
    public string Name { get; set; }
    public IPAddress Address { get; }
    public int ConfiguredPort { get; }
    public bool IsTcp => true;
    public IPEndPoint? BoundEndpoint { get; private set; }

    /// <summary>Connections being proxied now.</summary>
    public int ActiveConnections => Volatile.Read(ref _active);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var socket = new Socket(Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // As Kestrel does: a restarted proxy may bind while old connections sit in TIME_WAIT.
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(new IPEndPoint(Address, ConfiguredPort));
            socket.Listen(Backlog);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new IOException(e.SocketErrorCode == SocketError.AddressAlreadyInUse ? "address already in use" : e.Message, e);
        }

        _socket = socket;
        BoundEndpoint = (IPEndPoint)socket.LocalEndPoint!;
        _acceptLoop = AcceptLoopAsync(socket);
        return Task.CompletedTask;
    }

    private async Task AcceptLoopAsync(Socket socket)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await socket.AcceptAsync();
            }
            catch (Exception) when (_stopping)
            {
                return;
            }
            catch (SocketException e)
            {
                // Out of file descriptors and the like: this connection is lost, the listener goes on.
                LogAcceptFailed(_logger, Name, e);
                continue;
            }

            Interlocked.Increment(ref _active);
            _ = RunAsync(client);
        }
    }

    private async Task RunAsync(Socket client)
    {
        try
        {
            await _proxy.HandleAsync(client, Id, _abort.Token);
        }
        catch (Exception e)
        {
            LogConnectionFailed(_logger, Name, e);
        }
        finally
        {
            if (Interlocked.Decrement(ref _active) == 0 && _stopping)
            {
                _idle.TrySetResult();
            }
        }
    }

    public async Task StopAsync(TimeSpan drain)
    {
        _stopping = true;
        _socket?.Dispose();
        await _acceptLoop;
        if (Volatile.Read(ref _active) == 0)
        {
            _idle.TrySetResult();
        }

        try
        {
            await _idle.Task.WaitAsync(drain);
        }
        catch (TimeoutException)
        {
            await _abort.CancelAsync();
            await _idle.Task;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.Zero);
        _abort.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listener {Name}: accept failed")]
    private static partial void LogAcceptFailed(ILogger logger, string name, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listener {Name}: connection failed")]
    private static partial void LogConnectionFailed(ILogger logger, string name, Exception exception);
}
