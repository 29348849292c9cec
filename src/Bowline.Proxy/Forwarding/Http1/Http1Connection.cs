using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Bowline.Proxy.Transport;
using Bowline.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Forwarding.Http1;

/// <summary>
/// One keep-alive HTTP/1.1 connection to an upstream endpoint, and the exchange in progress on it: the request head is
/// written in one send, the response head parsed from the receive buffer, and the body moved from the socket straight
/// into Kestrel's response pipe. After a complete exchange the connection goes back to its <see cref="Http1Pool"/>;
/// anything unfinished or unusual closes it. One exchange at a time (no pipelining).
/// </summary>
internal sealed class Http1Connection : UpstreamResponse
{
    // The receive buffer holds response heads and chunk framing (bodies go straight into Kestrel's pipe): small, since
    // every pooled connection keeps one, and grown when a head needs more.
    private const int ReceiveBufferSize = 4 * 1024;

    // How much body one read asks for.
    private const int BufferSize = 16 * 1024;
    private const int MaxChunkLine = 4 * 1024;

    private readonly StreamSocket _socket;
    private readonly Http1Pool _pool;
    private readonly Http1ResponseHead _head = new();
    private Stream? _stream;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
    private int _start;
    private int _end;
    private bool _reusable;
    private bool _disposed;
    private Task? _bodySend;
    private CancellationTokenSource? _bodySendCancel;

    public Http1Connection(StreamSocket socket, Http1Pool pool)
    {
        _socket = socket;
        _pool = pool;
    }

    /// <summary>The pool's clock (<see cref="TimeProvider.GetTimestamp"/>) when the connection was last returned to it.</summary>
    public long IdleSince { get; set; }

    /// <summary>Exchanges completed on this connection; a failure before any response byte of a reused one may be stale.</summary>
    public int Exchanges { get; private set; }

    /// <summary>Trailer fields of a chunked response, when it had some.</summary>
    public List<KeyValuePair<string, string>>? Trailers { get; private set; }

    public override int StatusCode => _head.StatusCode;

    public override string? Header(string name) => _head.Get(name);

    /// <summary>The socket as a stream, for request bodies (HttpContent copies into streams).</summary>
    public Stream Stream => _stream ??= _socket.AsStream();

    public async ValueTask SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken token)
    {
        try
        {
            await _socket.SendAsync(bytes, token);
        }
        catch (SocketException e)
        {
            throw new Http1ConnectionException("upstream connection failed while sending the request", e, beforeResponse: true);
        }
    }

    /// <summary>
    /// Reads until a final (non-1xx) response head is complete and parses it. Interim 1xx responses are dropped:
    /// Kestrel already answered the client's Expect: 100-continue, and the proxy never asks for an upgrade here.
    /// </summary>
    public async ValueTask ReadHeadAsync(bool isHeadRequest, CancellationToken token)
    {
        _reusable = false;
        Trailers = null;
        var receivedAny = _end > _start;
        while (true)
        {
            int headEnd, terminator;
            while (!FindHeadEnd(out headEnd, out terminator))
            {
                if (_end - _start >= Http1ResponseHead.MaxHeadBytes)
                {
                    throw new Http1ProtocolException("response head larger than 64 KiB");
                }

                // Received here rather than through ReceiveMoreAsync: one async frame less on every response.
                int read;
                try
                {
                    read = await _socket.ReceiveAsync(ReceiveSpace(), token);
                }
                catch (SocketException e)
                {
                    throw new Http1ConnectionException("upstream connection reset", e, beforeResponse: !receivedAny);
                }

                if (read == 0)
                {
                    throw new Http1ConnectionException("upstream closed the connection before a complete response head", null, beforeResponse: !receivedAny);
                }

                _end += read;
                receivedAny = true;
            }

            _head.Parse(_buffer.AsSpan(_start, headEnd - _start), isHeadRequest);
            _start = headEnd + terminator;
            if (_head.StatusCode >= 200)
            {
                return;
            }

            if (_head.StatusCode == 101)
            {
                throw new Http1ProtocolException("101 Switching Protocols without an upgrade request");
            }
        }
    }

    /// <summary>
    /// Streams the response body into <paramref name="writer"/> as it arrives (each received piece flushed, so event
    /// streams are not held back); the bytes copied. Marks the connection reusable when the body ended where its
    /// framing says and the upstream keeps the connection.
    /// </summary>
    public async ValueTask<long> CopyBodyAsync(PipeWriter writer, CancellationToken token)
    {
        long copied;
        switch (_head.Framing)
        {
            case BodyFraming.None:
                copied = 0;
                break;
            case BodyFraming.ContentLength:
                copied = await CopyExactlyAsync(writer, _head.ContentLength, token);
                break;
            case BodyFraming.Chunked:
                copied = await CopyChunkedAsync(writer, token);
                break;
            default:
                copied = await CopyUntilCloseAsync(writer, token);
                break;
        }

        // Once anything was flushed, Kestrel no longer flushes the rest of a Content-Length body when the request ends
        // (it expects each write to have been flushed): the tail goes out here. A body written whole without a flush
        // goes out with the headers in this one send.
        await FlushAsync(writer, token);

        // Bytes past the body would be a pipelined answer to nothing: the connection cannot be trusted again.
        _reusable = _head.KeepAlive && _start == _end;
        return copied;
    }

    /// <summary>
    /// The request body still going out while the response is read: the connection is reused only if it went out
    /// whole; an unfinished send ends when the connection is closed.
    /// </summary>
    public void TrackRequestBody(Task send, CancellationTokenSource cancel)
    {
        _bodySend = send;
        _bodySendCancel = cancel;
    }

    /// <summary>An idle connection that turned readable was closed (or written to) by the upstream: not reusable.</summary>
    public bool ClosedByPeer()
    {
        try
        {
            return _socket.Readable();
        }
        catch (SocketException)
        {
            return true;
        }
    }

    public override async Task CopyToAsync(HttpContext context, ProxyRequestFeature feature, ResponseEdits edits, CancellationTokenSource? timeout, CancellationToken token)
    {
        var downstream = context.Response;
        downstream.StatusCode = _head.StatusCode;
        var headers = downstream.Headers;
        var fields = _head.Headers;
        // Nothing set yet (the usual case): only a name repeated in the upstream's head needs its values joined.
        var joinValues = headers.Count != 0 || _head.RepeatsNames;
        for (var i = 0; i < fields.Count; i++)
        {
            if (_head.IsEndToEnd(i))
            {
                var (name, value) = fields[i];
                // A repeated name (Set-Cookie) adds a value; the common case sets without reading first.
                if (joinValues && headers.TryGetValue(name, out var existing))
                {
                    headers[name] = Microsoft.Extensions.Primitives.StringValues.Concat(existing, value);
                }
                else
                {
                    headers[name] = value;
                }
            }
        }

        Forwarder.FinishResponseHeaders(context, feature, edits);
        try
        {
            if (_head.Framing is BodyFraming.Chunked or BodyFraming.UntilClose)
            {
                // A body of unknown length may be a stream (server-sent events): the client gets the headers now.
                await downstream.StartAsync(token);
                await downstream.BodyWriter.FlushAsync(token);
            }
            else if (_head.Framing is BodyFraming.ContentLength)
            {
                // Headers into Kestrel's output first (nothing is sent yet): body bytes written before them would be
                // buffered aside and copied behind them.
                await downstream.StartAsync(token);
            }

            var copied = await CopyBodyAsync(downstream.BodyWriter, token);
            if (_head.Framing != BodyFraming.ContentLength)
            {
                feature.ResponseBodyBytes = copied;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or Http1ConnectionException or Http1ProtocolException)
        {
            Forwarder.ResponseBodyFailed(context, feature, timeout);
            return;
        }

        if (Trailers is { Count: > 0 } trailers && downstream.SupportsTrailers())
        {
            foreach (var (name, value) in trailers)
            {
                downstream.AppendTrailer(name, value);
            }
        }
    }

    /// <summary>Ends the exchange: back to the pool when it completed cleanly, otherwise closed.</summary>
    public override void Dispose()
    {
        StopBodySend();
        if (_reusable && !_disposed)
        {
            _reusable = false;
            Exchanges++;
            _pool.Return(this);
            return;
        }

        Close();
    }

    public void Close()
    {
        StopBodySend();
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _stream?.Dispose();
        _socket.Dispose();
        var buffer = _buffer;
        _buffer = [];
        ArrayPool<byte>.Shared.Return(buffer);
    }

    /// <summary>
    /// Ends the tracking of a request body sent alongside the response. One still running means the upstream answered
    /// before taking the whole body: the client's body is no longer read, and the connection cannot carry another
    /// request.
    /// </summary>
    private void StopBodySend()
    {
        if (_bodySend is { } send)
        {
            var cancel = _bodySendCancel!;
            _bodySend = null;
            _bodySendCancel = null;
            if (send.IsCompletedSuccessfully)
            {
                cancel.Dispose();
            }
            else
            {
                _reusable = false;
                cancel.Cancel();
                _ = send.ContinueWith(static (t, c) =>
                {
                    _ = t.Exception;
                    ((CancellationTokenSource)c!).Dispose();
                }, cancel, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            }
        }
    }

    private bool FindHeadEnd(out int headEnd, out int terminatorLength)
    {
        var data = _buffer.AsSpan(_start, _end - _start);
        var lf = 0;
        while (true)
        {
            var i = data[lf..].IndexOf((byte)'\n');
            if (i < 0)
            {
                headEnd = terminatorLength = 0;
                return false;
            }

            lf += i;
            // The empty line: "\n\n" or "\n\r\n" right after a line's end.
            if (lf + 1 < data.Length && data[lf + 1] == (byte)'\n')
            {
                headEnd = _start + lf + (lf > 0 && data[lf - 1] == (byte)'\r' ? -1 : 0);
                terminatorLength = _start + lf + 2 - headEnd;
                return true;
            }

            if (lf + 2 < data.Length && data[lf + 1] == (byte)'\r' && data[lf + 2] == (byte)'\n')
            {
                headEnd = _start + lf + (lf > 0 && data[lf - 1] == (byte)'\r' ? -1 : 0);
                terminatorLength = _start + lf + 3 - headEnd;
                return true;
            }

            lf++;
        }
    }

    /// <summary>Receives into the buffer after what is unread, compacting or growing it first; 0 at end of stream.</summary>
    private async ValueTask<int> ReceiveMoreAsync(CancellationToken token)
    {
        try
        {
            var read = await _socket.ReceiveAsync(ReceiveSpace(), token);
            _end += read;
            return read;
        }
        catch (SocketException e)
        {
            throw new Http1ConnectionException("upstream connection reset", e, beforeResponse: false);
        }
    }

    /// <summary>The free space after the unread bytes, made by compacting or growing the buffer when it is full.</summary>
    private Memory<byte> ReceiveSpace()
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_end == _buffer.Length)
        {
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            else
            {
                var larger = ArrayPool<byte>.Shared.Rent(Math.Min(_buffer.Length * 2, Http1ResponseHead.MaxHeadBytes + ReceiveBufferSize));
                Buffer.BlockCopy(_buffer, 0, larger, 0, _end);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = larger;
            }
        }

        return _buffer.AsMemory(_end);
    }

    private async ValueTask<int> ReceiveIntoAsync(Memory<byte> memory, CancellationToken token)
    {
        try
        {
            return await _socket.ReceiveAsync(memory, token);
        }
        catch (SocketException e)
        {
            throw new Http1ConnectionException("upstream connection reset", e, beforeResponse: false);
        }
    }

    /// <summary>
    /// Moves exactly <paramref name="length"/> body bytes to the writer: first what is buffered, then straight from the
    /// socket into the writer's memory. An end of stream before that is <paramref name="truncated"/>.
    /// </summary>
    private async ValueTask<long> CopyExactlyAsync(PipeWriter writer, long length, CancellationToken token,
        string truncated = "upstream closed the connection before the end of the body")
    {
        var remaining = length;
        remaining -= CopyBuffered(writer, remaining);
        while (remaining > 0)
        {
            // Whatever was written so far goes to the client before waiting on the upstream again.
            await FlushAsync(writer, token);
            var memory = writer.GetMemory((int)Math.Min(remaining, BufferSize));
            var read = await ReceiveIntoAsync(memory[..(int)Math.Min(remaining, memory.Length)], token);
            if (read == 0)
            {
                throw new Http1ConnectionException(truncated, null, beforeResponse: false);
            }

            writer.Advance(read);
            remaining -= read;
        }

        return length;
    }

    private async ValueTask<long> CopyUntilCloseAsync(PipeWriter writer, CancellationToken token)
    {
        long copied = CopyBuffered(writer, long.MaxValue);
        while (true)
        {
            await FlushAsync(writer, token);
            var memory = writer.GetMemory(BufferSize);
            var read = await ReceiveIntoAsync(memory, token);
            if (read == 0)
            {
                return copied;
            }

            writer.Advance(read);
            copied += read;
        }
    }

    /// <summary>RFC 9112 §7.1: hex size [; extensions] CRLF, data CRLF, …, 0 CRLF, trailer fields, CRLF.</summary>
    private async ValueTask<long> CopyChunkedAsync(PipeWriter writer, CancellationToken token)
    {
        long copied = 0;
        while (true)
        {
            var line = await ReadLineAsync(token);
            var size = ChunkSize(_buffer.AsSpan(line.Start, line.Length));
            if (size == 0)
            {
                await ReadTrailersAsync(token);
                return copied;
            }

            copied += await CopyExactlyAsync(writer, size, token, "upstream closed the connection inside a chunk");
            var end = await ReadLineAsync(token);
            if (end.Length != 0)
            {
                throw new Http1ProtocolException("chunk data longer than its size");
            }

            if (_start == _end)
            {
                // Nothing more buffered: what arrived so far goes out before the next read may wait.
                await FlushAsync(writer, token);
            }
        }
    }

    private async ValueTask ReadTrailersAsync(CancellationToken token)
    {
        while (true)
        {
            var line = await ReadLineAsync(token);
            if (line.Length == 0)
            {
                return;
            }

            var text = _buffer.AsSpan(line.Start, line.Length);
            var colon = text.IndexOf((byte)':');
            if (colon <= 0)
            {
                throw new Http1ProtocolException("invalid trailer line");
            }

            (Trailers ??= []).Add(new(
                KnownHeaderNames.Get(text[..colon]) ?? System.Text.Encoding.ASCII.GetString(text[..colon]),
                System.Text.Encoding.Latin1.GetString(text[(colon + 1)..].Trim(" \t"u8))));
        }
    }

    /// <summary>The next line in the buffer (without CRLF / LF), receiving until one is complete.</summary>
    private async ValueTask<(int Start, int Length)> ReadLineAsync(CancellationToken token)
    {
        while (true)
        {
            var lf = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (lf >= 0)
            {
                var start = _start;
                var length = lf > 0 && _buffer[start + lf - 1] == (byte)'\r' ? lf - 1 : lf;
                _start += lf + 1;
                return (start, length);
            }

            if (_end - _start > MaxChunkLine)
            {
                throw new Http1ProtocolException("chunk line too long");
            }

            if (await ReceiveMoreAsync(token) == 0)
            {
                throw new Http1ConnectionException("upstream closed the connection inside a chunked body", null, beforeResponse: false);
            }
        }
    }

    private static long ChunkSize(ReadOnlySpan<byte> line)
    {
        var semicolon = line.IndexOf((byte)';');
        var hex = (semicolon < 0 ? line : line[..semicolon]).TrimEnd(" \t"u8);
        if (hex.IsEmpty || hex.Length > 15)
        {
            throw new Http1ProtocolException("invalid chunk size");
        }

        long size = 0;
        foreach (var b in hex)
        {
            var digit = HexDigit(b);
            if (digit < 0)
            {
                throw new Http1ProtocolException("invalid chunk size");
            }

            size = (size << 4) | (long)digit;
        }

        return size;
    }

    private static int HexDigit(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    /// <summary>Moves up to <paramref name="max"/> already-received bytes into the writer; the count moved.</summary>
    private int CopyBuffered(PipeWriter writer, long max)
    {
        var count = (int)Math.Min(max, _end - _start);
        var left = count;
        while (left > 0)
        {
            // An explicit size hint: Kestrel's response writer can hand out an empty span for a hint of 0 (what
            // PipeWriter.Write asks with) once its current segment is full.
            var span = writer.GetSpan(Math.Min(left, BufferSize));
            if (span.IsEmpty)
            {
                throw new IOException("downstream response writer has no room");
            }

            var n = Math.Min(span.Length, left);
            _buffer.AsSpan(_start, n).CopyTo(span);
            writer.Advance(n);
            _start += n;
            left -= n;
        }

        return count;
    }

    private static async ValueTask FlushAsync(PipeWriter writer, CancellationToken token)
    {
        if (writer.UnflushedBytes > 0 || !writer.CanGetUnflushedBytes)
        {
            var result = await writer.FlushAsync(token);
            if (result.IsCanceled || result.IsCompleted)
            {
                // The client is gone (Kestrel completed the pipe): stop reading the upstream.
                throw new OperationCanceledException("downstream response closed");
            }
        }
    }
}

/// <summary>
/// The upstream connection failed or closed. <see cref="BeforeResponse"/>: no byte of the response had arrived, so on a
/// reused keep-alive connection the upstream most likely closed it while idle and the request may go out again.
/// </summary>
internal sealed class Http1ConnectionException(string message, Exception? inner, bool beforeResponse) : IOException(message, inner)
{
    public bool BeforeResponse { get; } = beforeResponse;
}
