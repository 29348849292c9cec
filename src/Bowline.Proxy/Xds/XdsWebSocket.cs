using System.Buffers;
using System.Buffers.Binary;
using System.Net.WebSockets;

namespace Bowline.Proxy.Xds;

/// <summary>
/// The client end of the control-plane WebSocket (RFC 6455 framing after <see cref="WebSocketConnector"/>'s handshake):
/// whole text messages out, messages in (fragmented or not), ping answered, close echoed, pings of its own. .NET's client WebSocket draws every frame's masking key from RandomNumberGenerator, which loads and
/// initializes OpenSSL (~4 MB resident) in a proxy that otherwise needs no TLS; the keys here come from the kernel's
/// CSPRNG through <see cref="Guid.NewGuid"/> (getrandom), as §5.3 asks, without OpenSSL.
/// </summary>
internal sealed class XdsWebSocket(Stream stream) : IDisposable
{
    private const byte Fin = 0x80;
    private const byte OpContinuation = 0x0, OpText = 0x1, OpBinary = 0x2, OpClose = 0x8, OpPing = 0x9, OpPong = 0xA;

    // Control frames carry at most 125 bytes (§5.5).
    private const int MaxControlPayload = 125;

    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly byte[] _header = new byte[14];
    private bool _closeSent;
    private long _reads;

    /// <summary>Reads that brought bytes from the server so far: the keep-alive watches it move.</summary>
    public long Reads => Volatile.Read(ref _reads);

    public Task SendTextAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken) =>
        SendFrameAsync(OpText, payload, cancellationToken);

    /// <summary>A ping: the server must answer with a pong (§5.5.2), so silence after it means the stream is dead.</summary>
    public Task SendPingAsync(CancellationToken cancellationToken) => SendFrameAsync(OpPing, ReadOnlyMemory<byte>.Empty, cancellationToken);

    /// <summary>Reads one whole data message into <paramref name="into"/>; false when the server closed the stream.</summary>
    /// <exception cref="WebSocketException">The server broke the framing rules.</exception>
    public async Task<bool> ReceiveMessageAsync(ArrayBufferWriter<byte> into, CancellationToken cancellationToken)
    {
        var inMessage = false;
        while (true)
        {
            await ReadExactlyAsync(_header.AsMemory(0, 2), cancellationToken);
            var fin = (_header[0] & Fin) != 0;
            var opcode = (byte)(_header[0] & 0x0F);
            if ((_header[0] & 0x70) != 0 || (_header[1] & 0x80) != 0)
            {
                // No extension was negotiated, and a server never masks (§5.1).
                throw new WebSocketException(WebSocketError.Faulted, "invalid frame from the control plane (reserved bits or masking)");
            }

            var length = await ReadLengthAsync((byte)(_header[1] & 0x7F), cancellationToken);
            if (opcode >= OpClose)
            {
                if (!fin || length > MaxControlPayload)
                {
                    throw new WebSocketException(WebSocketError.Faulted, "invalid control frame from the control plane");
                }

                var payload = new byte[length];
                await ReadExactlyAsync(payload, cancellationToken);
                switch (opcode)
                {
                    case OpClose:
                        // Echo the status code and end (§5.5.1).
                        await SendFrameAsync(OpClose, payload.AsMemory(0, Math.Min(payload.Length, 2)), cancellationToken);
                        return false;
                    case OpPing:
                        await SendFrameAsync(OpPong, payload, cancellationToken);
                        break;
                    case OpPong:
                        break;
                    default:
                        throw new WebSocketException(WebSocketError.Faulted, $"unknown control opcode {opcode} from the control plane");
                }

                continue;
            }

            if (opcode is not (OpContinuation or OpText or OpBinary) || (opcode == OpContinuation) != inMessage)
            {
                throw new WebSocketException(WebSocketError.Faulted, $"unexpected data frame (opcode {opcode}) from the control plane");
            }

            if (length > int.MaxValue)
            {
                throw new WebSocketException(WebSocketError.Faulted, "frame too large");
            }

            var left = (int)length;
            while (left > 0)
            {
                var chunk = into.GetMemory(Math.Min(left, 64 * 1024));
                var read = await stream.ReadAsync(chunk[..Math.Min(chunk.Length, left)], cancellationToken);
                if (read == 0)
                {
                    throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "the control plane closed the stream mid-frame");
                }

                into.Advance(read);
                left -= read;
                Volatile.Write(ref _reads, _reads + 1);
            }

            if (fin)
            {
                return true;
            }

            inMessage = true;
        }
    }

    private async Task<long> ReadLengthAsync(byte length7, CancellationToken cancellationToken)
    {
        switch (length7)
        {
            case 126:
                await ReadExactlyAsync(_header.AsMemory(2, 2), cancellationToken);
                return BinaryPrimitives.ReadUInt16BigEndian(_header.AsSpan(2));
            case 127:
                await ReadExactlyAsync(_header.AsMemory(2, 8), cancellationToken);
                var length = BinaryPrimitives.ReadUInt64BigEndian(_header.AsSpan(2));
                return length > long.MaxValue ? throw new WebSocketException(WebSocketError.Faulted, "invalid frame length") : (long)length;
            default:
                return length7;
        }
    }

    private async Task ReadExactlyAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            await stream.ReadExactlyAsync(buffer, cancellationToken);
            Volatile.Write(ref _reads, _reads + 1);
        }
        catch (EndOfStreamException e)
        {
            throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "the control plane closed the stream", e);
        }
    }

    /// <summary>One whole masked frame (§5.2-5.3), written in one piece; sends from the keep-alive and the stream never interleave.</summary>
    private async Task SendFrameAsync(byte opcode, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            if (_closeSent)
            {
                return;
            }

            _closeSent = opcode == OpClose;
            var headerLength = 2 + (payload.Length <= 125 ? 0 : payload.Length <= ushort.MaxValue ? 2 : 8) + 4;
            var frame = ArrayPool<byte>.Shared.Rent(headerLength + payload.Length);
            try
            {
                frame[0] = (byte)(Fin | opcode);
                if (payload.Length <= 125)
                {
                    frame[1] = (byte)(0x80 | payload.Length);
                }
                else if (payload.Length <= ushort.MaxValue)
                {
                    frame[1] = 0x80 | 126;
                    BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)payload.Length);
                }
                else
                {
                    frame[1] = 0x80 | 127;
                    BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), (ulong)payload.Length);
                }

                Span<byte> key = stackalloc byte[16];
                Guid.NewGuid().TryWriteBytes(key);
                key[..4].CopyTo(frame.AsSpan(headerLength - 4));
                var body = frame.AsSpan(headerLength, payload.Length);
                payload.Span.CopyTo(body);
                for (var i = 0; i < body.Length; i++)
                {
                    body[i] ^= key[i & 3];
                }

                await stream.WriteAsync(frame.AsMemory(0, headerLength + payload.Length), cancellationToken);
                await stream.FlushAsync(cancellationToken);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(frame);
            }
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public void Dispose()
    {
        stream.Dispose();
        _sendLock.Dispose();
    }
}
