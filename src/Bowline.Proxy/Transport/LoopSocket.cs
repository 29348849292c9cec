using System.Buffers;
using System.Net;
using System.Net.Sockets;

namespace Bowline.Proxy.Transport;

/// <summary>
/// A non-blocking TCP socket on an <see cref="EventLoop"/>. A receive reads at once only when an event arrived since a
/// read last found the socket drained (a short read or EAGAIN); otherwise it waits for the next readable event and
/// reads then, on the loop's thread. So a request/response exchange costs one recv per direction, never the
/// speculative recv → EAGAIN → wait that System.Net.Sockets does for every receive. Sends are tried at once (a socket
/// is nearly always writable) and wait for a writable event only after EAGAIN or a partial write.
/// One receive and one send may be outstanding at a time, as with a stream. The descriptors are non-blocking, so no
/// call here ever sleeps, and a call that does not sleep is never interrupted by a signal: no EINTR retries.
/// </summary>
internal sealed class LoopSocket : StreamSocket
{
    private const int ClosedBit = 1 << 30;

    private readonly EventLoop _loop;
    private readonly ReadOperation _read;
    private readonly WriteOperation _write;
    private int _fd;
    // Operations in flight on the descriptor plus one for the owner; ClosedBit once disposed. The descriptor is closed
    // when the last reference goes, so a syscall never runs on a number closed and reused under it.
    private int _references = 1;
    // How many readable / writable events have arrived (incremented by the loop thread; interlocked, so a waiter that
    // sets its flag and then reads the count cannot miss an event that read the flag before it was set).
    private int _readEvents;
    private int _writeEvents;
    // The _readEvents value at which a read last found the socket drained: ready to read again when they differ.
    private int _readDrainedAt = -1;
    // The peer's FIN, a reset or an error was reported. Sticky: one event can report data and FIN together, so a
    // short read of the data does not mean drained — the end of the stream is still to be read, and no event follows.
    private volatile bool _readEnded;

    private LoopSocket(int fd, EventLoop loop)
    {
        _fd = fd;
        _loop = loop;
        _read = new ReadOperation(this);
        _write = new WriteOperation(this);
        loop.Register(fd, this);
    }

    /// <summary>A socket for a non-blocking descriptor already connected (accepted) or listening; loops taken in turn.</summary>
    public static LoopSocket Adopt(int fd) => new(fd, EventLoop.Next());

    /// <summary>Connects to <paramref name="endpoint"/>; the caller bounds the time with <paramref name="token"/>.</summary>
    /// <exception cref="SocketException">Refused, unreachable, and the like.</exception>
    public static async ValueTask<LoopSocket> ConnectAsync(IPEndPoint endpoint, CancellationToken token)
    {
        var fd = Libc.TcpSocket(endpoint.AddressFamily);
        LoopSocket socket;
        try
        {
            socket = new LoopSocket(fd, EventLoop.Pick());
        }
        catch
        {
            Libc.close(fd);
            throw;
        }

        try
        {
            var seen = Volatile.Read(ref socket._writeEvents);
            if (!socket.StartConnect(endpoint))
            {
                await socket.WaitWritableAsync(seen, token);
                var error = socket.PendingError();
                if (error != 0)
                {
                    throw Libc.Error(error);
                }
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public bool IsClosed => (Volatile.Read(ref _references) & ClosedBit) != 0;

    public IPEndPoint? LocalEndPoint => Enter() ? Leave(Libc.LocalEndPoint(_fd)) : null;

    public IPEndPoint? RemoteEndPoint => Enter() ? Leave(Libc.RemoteEndPoint(_fd)) : null;

    /// <summary>The loop's report for this socket's descriptor.</summary>
    public void OnEvents(uint events)
    {
        if ((events & (Libc.EPOLLIN | Libc.EPOLLRDHUP | Libc.EPOLLHUP | Libc.EPOLLERR)) != 0)
        {
            if ((events & (Libc.EPOLLRDHUP | Libc.EPOLLHUP | Libc.EPOLLERR)) != 0)
            {
                _readEnded = true;
            }

            Interlocked.Increment(ref _readEvents);
            _read.OnReady();
        }

        if ((events & (Libc.EPOLLOUT | Libc.EPOLLHUP | Libc.EPOLLERR)) != 0)
        {
            Interlocked.Increment(ref _writeEvents);
            _write.OnReady();
        }
    }

    /// <summary>
    /// Receives into <paramref name="buffer"/>: the byte count, 0 at the end of the stream. An empty buffer waits until
    /// the socket may be readable and returns 0.
    /// </summary>
    /// <exception cref="SocketException">Reset, or the socket was disposed (OperationAborted).</exception>
    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken token)
    {
        var seen = Volatile.Read(ref _readEvents);
        if (seen != _readDrainedAt || _readEnded)
        {
            if (buffer.IsEmpty)
            {
                return new ValueTask<int>(0);
            }

            var received = TryReceive(buffer.Span, seen);
            if (received != Libc.WouldBlock)
            {
                return received >= 0 ? new ValueTask<int>((int)received) : ValueTask.FromException<int>(Libc.Error((int)-received));
            }
        }

        return _read.Start(buffer, seen, token);
    }

    /// <summary>
    /// accept4 on a listening socket: the new non-blocking descriptor (Nagle off), or -1 with the errno. EAGAIN marks
    /// the socket drained, as a receive's does, so an empty <see cref="ReceiveAsync"/> then waits for the next client.
    /// </summary>
    public unsafe int Accept(out int errno)
    {
        if (!Enter())
        {
            errno = Libc.EBADF;
            return -1;
        }

        try
        {
            var seen = Volatile.Read(ref _readEvents);
            var fd = Libc.accept4(_fd, null, null, Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC);
            if (fd >= 0)
            {
                Libc.SetNoDelay(fd);
                errno = 0;
                return fd;
            }

            errno = Libc.Errno;
            if (errno == Libc.EAGAIN)
            {
                _readDrainedAt = seen;
            }

            return -1;
        }
        finally
        {
            Leave();
        }
    }

    public override ValueTask SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken token) => SendAsync(new ReadOnlySequence<byte>(bytes), token);

    /// <summary>Sends every byte of <paramref name="bytes"/>, which must stay unchanged until the task completes.</summary>
    /// <exception cref="SocketException">Reset, broken pipe, or the socket was disposed.</exception>
    public ValueTask SendAsync(ReadOnlySequence<byte> bytes, CancellationToken token)
    {
        // Read before the attempt: a writable event between an EAGAIN and the wait must not be missed.
        var seen = Volatile.Read(ref _writeEvents);
        var result = SendAll(ref bytes);
        return result == 0 ? default
            : result == Libc.WouldBlock ? _write.Start(bytes, seen, token)
            : ValueTask.FromException(Libc.Error((int)-result));
    }

    /// <summary>Waits until the socket is writable (a connect in progress finished either way).</summary>
    private ValueTask WaitWritableAsync(int seen, CancellationToken token) => _write.Start(ReadOnlySequence<byte>.Empty, seen, token);

    /// <summary>Readable without blocking: data or an end of stream is waiting (for an idle pooled connection, a close).</summary>
    public override unsafe bool Readable()
    {
        if (!Enter())
        {
            return true;
        }

        try
        {
            byte one;
            var n = Libc.recv(_fd, &one, 1, Libc.MSG_PEEK | Libc.MSG_DONTWAIT);
            return n >= 0 || Libc.Errno != Libc.EAGAIN;
        }
        finally
        {
            Leave();
        }
    }

    public override Stream AsStream() => new LoopSocketStream(this);

    /// <summary>
    /// Shuts the socket down both ways and fails what waits on it (OperationAborted); the descriptor is closed once no
    /// call is using it any more.
    /// </summary>
    public override void Dispose()
    {
        if ((Interlocked.Or(ref _references, ClosedBit) & ClosedBit) != 0)
        {
            return;
        }

        // The owner's reference is still held: the descriptor is open.
        Libc.shutdown(_fd, Libc.SHUT_RDWR);
        _read.Abort();
        _write.Abort();
        Leave();
    }

    private bool StartConnect(IPEndPoint endpoint) => Enter()
        ? Leave(Libc.StartConnect(_fd, endpoint))
        : throw Libc.Error(Libc.EBADF);

    private int PendingError() => Enter() ? Leave(Libc.PendingError(_fd)) : Libc.EBADF;

    /// <summary>
    /// One recv: the byte count, <see cref="Libc.WouldBlock"/> when nothing was there, or -errno. A short read or
    /// EAGAIN marks the socket drained as of <paramref name="seen"/>; an event after that makes it ready again.
    /// </summary>
    private unsafe nint TryReceive(Span<byte> buffer, int seen)
    {
        if (!Enter())
        {
            return -Libc.EBADF;
        }

        try
        {
            nint n;
            fixed (byte* p = buffer)
            {
                n = Libc.recv(_fd, p, (nuint)buffer.Length, 0);
            }

            if (n >= 0)
            {
                if (n < buffer.Length && !_readEnded)
                {
                    _readDrainedAt = seen;
                }

                return n;
            }

            var errno = Libc.Errno;
            if (errno != Libc.EAGAIN)
            {
                return -errno;
            }

            _readDrainedAt = seen;
            return Libc.WouldBlock;
        }
        finally
        {
            Leave();
        }
    }

    /// <summary>
    /// Sends until every byte is taken (0), none fits (<see cref="Libc.WouldBlock"/>, with <paramref name="bytes"/> the
    /// rest), or the socket fails (-errno). One send or writev per round.
    /// </summary>
    private nint SendAll(ref ReadOnlySequence<byte> bytes)
    {
        if (!Enter())
        {
            return -Libc.EBADF;
        }

        try
        {
            while (!bytes.IsEmpty)
            {
                var n = bytes.IsSingleSegment ? SendOne(bytes.FirstSpan) : SendMany(bytes);
                if (n < 0)
                {
                    var errno = Libc.Errno;
                    return errno == Libc.EAGAIN ? Libc.WouldBlock : -errno;
                }

                bytes = bytes.Slice(n);
            }

            return 0;
        }
        finally
        {
            Leave();
        }
    }

    private unsafe nint SendOne(ReadOnlySpan<byte> span)
    {
        fixed (byte* p = span)
        {
            // MSG_NOSIGNAL: a peer gone is an EPIPE error here, not a SIGPIPE for the process.
            return Libc.send(_fd, p, (nuint)span.Length, Libc.MSG_NOSIGNAL);
        }
    }

    /// <summary>Up to 16 segments in one writev (a response head and its body in separate pipe blocks, say).</summary>
    private unsafe nint SendMany(in ReadOnlySequence<byte> bytes)
    {
        const int MaxSegments = 16;
        var vectors = stackalloc Libc.IoVec[MaxSegments];
        var handles = new MemoryHandleArray();
        var count = 0;
        try
        {
            foreach (var segment in bytes)
            {
                if (segment.IsEmpty)
                {
                    continue;
                }

                if (count == MaxSegments)
                {
                    break;
                }

                handles[count] = segment.Pin();
                vectors[count] = new Libc.IoVec { Base = (byte*)handles[count].Pointer, Length = (nuint)segment.Length };
                count++;
            }

            // writev on a socket raises SIGPIPE for a reset peer only if SIGPIPE is not ignored; .NET ignores it.
            return Libc.writev(_fd, vectors, count);
        }
        finally
        {
            for (var i = 0; i < count; i++)
            {
                handles[i].Dispose();
            }
        }
    }

    private bool Enter()
    {
        if ((Interlocked.Increment(ref _references) & ClosedBit) == 0)
        {
            return true;
        }

        Leave();
        return false;
    }

    private T Leave<T>(T value)
    {
        Leave();
        return value;
    }

    private void Leave()
    {
        if (Interlocked.Decrement(ref _references) == ClosedBit)
        {
            var fd = Interlocked.Exchange(ref _fd, -1);
            if (fd >= 0)
            {
                _loop.Unregister(fd, this);
                Libc.close(fd);
            }
        }
    }

    [System.Runtime.CompilerServices.InlineArray(16)]
    private struct MemoryHandleArray
    {
        private MemoryHandle _element;
    }

    /// <summary>The receive waiting for a readable event; completed on the loop thread.</summary>
    private sealed class ReadOperation(LoopSocket socket) : LoopOperation
    {
        private Memory<byte> _buffer;

        public ValueTask<int> Start(Memory<byte> buffer, int seen, CancellationToken token)
        {
            _buffer = buffer;
            return new ValueTask<int>(this, Begin(seen, token));
        }

        protected override int Events => Volatile.Read(ref socket._readEvents);

        /// <summary>Completes when the read got anything but EAGAIN.</summary>
        protected override bool TryComplete(int seen)
        {
            if (_buffer.IsEmpty)
            {
                _buffer = default;
                SetResult(0);
                return true;
            }

            var n = socket.TryReceive(_buffer.Span, seen);
            if (n == Libc.WouldBlock)
            {
                return false;
            }

            _buffer = default;
            if (n >= 0)
            {
                SetResult((int)n);
            }
            else
            {
                SetException(Libc.Error((int)-n));
            }

            return true;
        }

        protected override void Clear() => _buffer = default;

        protected override bool Disposed => socket.IsClosed;
    }

    /// <summary>The rest of a send waiting for a writable event (or a connect waiting to finish).</summary>
    private sealed class WriteOperation(LoopSocket socket) : LoopOperation
    {
        private ReadOnlySequence<byte> _bytes;

        public ValueTask Start(ReadOnlySequence<byte> bytes, int seen, CancellationToken token)
        {
            _bytes = bytes;
            return new ValueTask(this, Begin(seen, token));
        }

        protected override int Events => Volatile.Read(ref socket._writeEvents);

        protected override bool TryComplete(int seen)
        {
            var result = socket.SendAll(ref _bytes);
            if (result == Libc.WouldBlock)
            {
                return false;
            }

            _bytes = default;
            if (result == 0)
            {
                SetResult(0);
            }
            else
            {
                SetException(Libc.Error((int)-result));
            }

            return true;
        }

        protected override void Clear() => _bytes = default;

        protected override bool Disposed => socket.IsClosed;
    }
}
