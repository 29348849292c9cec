using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Bowline.Proxy.Transport;

/// <summary>
/// One accepted connection as Kestrel sees it: two pipes between Kestrel and a <see cref="LoopSocket"/>. The receive
/// loop reads into the input pipe when the socket is readable and flushes — with inline schedulers Kestrel parses and
/// the proxy serves the request right there, on the event loop's thread; the send loop writes what Kestrel flushes
/// at once (writev for several blocks). Lifecycle as Kestrel's socket transport: the end of the send loop (Kestrel is
/// done, or an abort) shuts the socket down; the end of the receive loop (FIN, reset) signals ConnectionClosed.
/// </summary>
internal sealed class LoopConnection : ConnectionContext, IConnectionIdFeature, IConnectionTransportFeature,
    IConnectionItemsFeature, IMemoryPoolFeature, IConnectionLifetimeFeature
{
    // Kestrel's socket transport defaults: up to 1 MB read ahead of the application, 64 KB written ahead of the socket.
    private const long MaxReadBuffer = 1024 * 1024;
    private const long MaxWriteBuffer = 64 * 1024;
    // The least space a receive asks for; the rest of a block when it has at least this much.
    private const int MinReceive = 2048;

    private static long s_lastId;

    private readonly LoopSocket _socket;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly CancellationTokenSource _closed = new();
    private IDictionary<object, object?>? _items;
    private string? _id;
    private Task? _receiving;
    private Task? _sending;
    // Set once, by the first shutdown: also what says the socket is being shut down.
    private Exception? _shutdownReason;

    public LoopConnection(LoopSocket socket)
    {
        _socket = socket;
        LocalEndPoint = socket.LocalEndPoint;
        RemoteEndPoint = socket.RemoteEndPoint;
        var pool = BlockPool.Instance;
        _input = new Pipe(new PipeOptions(pool, PipeScheduler.Inline, PipeScheduler.Inline, MaxReadBuffer, MaxReadBuffer / 2, useSynchronizationContext: false));
        _output = new Pipe(new PipeOptions(pool, PipeScheduler.Inline, PipeScheduler.Inline, MaxWriteBuffer, MaxWriteBuffer / 2, useSynchronizationContext: false));
        Transport = new DuplexPipe(_input.Reader, _output.Writer);
        ConnectionClosed = _closed.Token;
        var features = new FeatureCollection();
        features.Set<IConnectionIdFeature>(this);
        features.Set<IConnectionTransportFeature>(this);
        features.Set<IConnectionItemsFeature>(this);
        features.Set<IMemoryPoolFeature>(this);
        features.Set<IConnectionLifetimeFeature>(this);
        Features = features;
    }

    public override string ConnectionId
    {
        get => _id ??= Interlocked.Increment(ref s_lastId).ToString("x", System.Globalization.CultureInfo.InvariantCulture);
        set => _id = value;
    }

    public override IFeatureCollection Features { get; }

    public override IDictionary<object, object?> Items
    {
        get => _items ??= new ConnectionItems();
        set => _items = value;
    }

    public override IDuplexPipe Transport { get; set; }

    public MemoryPool<byte> MemoryPool => BlockPool.Instance;

    public void Start()
    {
        _receiving = ReceiveAsync();
        _sending = SendAsync();
    }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        Shutdown(abortReason);
        // The send loop may be waiting for Kestrel's next write: end it.
        _output.Reader.CancelPendingRead();
    }

    public override async ValueTask DisposeAsync()
    {
        // Kestrel's ends: the send loop sees the output completed and shuts the socket, which ends the receive loop.
        await _input.Reader.CompleteAsync();
        await _output.Writer.CompleteAsync();
        if (_receiving is not null)
        {
            await _receiving;
        }

        if (_sending is not null)
        {
            await _sending;
        }

        _closed.Dispose();
        await base.DisposeAsync();
    }

    private async Task ReceiveAsync()
    {
        Exception? error = null;
        try
        {
            var writer = _input.Writer;
            while (true)
            {
                var received = await _socket.ReceiveAsync(writer.GetMemory(MinReceive), CancellationToken.None);
                if (received == 0)
                {
                    break;
                }

                writer.Advance(received);
                var flushed = await writer.FlushAsync();
                if (flushed.IsCompleted || flushed.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset)
        {
            error = new ConnectionResetException(e.Message, e);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.OperationAborted or SocketError.ConnectionAborted or SocketError.Shutdown)
        {
            error = Volatile.Read(ref _shutdownReason) ?? new ConnectionAbortedException("the connection was aborted", e);
        }
        catch (Exception e)
        {
            error = e;
        }
        finally
        {
            await _input.Writer.CompleteAsync(Volatile.Read(ref _shutdownReason) ?? error);
            // Off this thread: Kestrel's handlers of the token (request aborted) must not run inside the event loop's dispatch.
            ThreadPool.UnsafeQueueUserWorkItem(static closed => Fire(closed), _closed, preferLocal: false);
        }
    }

    private async Task SendAsync()
    {
        Exception? error = null;
        try
        {
            var reader = _output.Reader;
            while (true)
            {
                var result = await reader.ReadAsync();
                if (result.IsCanceled)
                {
                    break;
                }

                var buffer = result.Buffer;
                if (!buffer.IsEmpty)
                {
                    await _socket.SendAsync(buffer, CancellationToken.None);
                }

                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown or SocketError.OperationAborted or SocketError.ConnectionAborted)
        {
            error = Volatile.Read(ref _shutdownReason) ?? new ConnectionResetException(e.Message, e);
        }
        catch (Exception e)
        {
            error = e;
        }
        finally
        {
            Shutdown(error);
            await _output.Reader.CompleteAsync(Volatile.Read(ref _shutdownReason) ?? error);
        }
    }

    /// <summary>FIN and close, once: what the send loop does when it ends, and an abort.</summary>
    private void Shutdown(Exception? reason)
    {
        if (Interlocked.CompareExchange(ref _shutdownReason, reason ?? new ConnectionAbortedException("the transport's send loop completed"), null) is null)
        {
            _socket.Dispose();
        }
    }

    private static void Fire(CancellationTokenSource closed)
    {
        try
        {
            closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input => input;

        public PipeWriter Output => output;
    }
}
