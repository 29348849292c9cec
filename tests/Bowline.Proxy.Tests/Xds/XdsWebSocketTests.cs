using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Text;
using Bowline.Proxy.Xds;

namespace Bowline.Proxy.Tests.Xds;

/// <summary>The control-plane stream's framing (RFC 6455 §5), over an in-memory duplex stream playing the server.</summary>
public sealed class XdsWebSocketTests
{
    [Fact]
    public async Task ReceiveMessageAsync_FragmentsWithAPingBetween_OneMessageAndThePingAnsweredWithItsPayload()
    {
        await using var wire = new Wire();
        using var socket = new XdsWebSocket(wire.ClientSide);
        await wire.ServerSendsAsync(Frame(0x01, "he", fin: false), Frame(0x09, "p1"), Frame(0x00, "llo", fin: true));

        var message = new ArrayBufferWriter<byte>();
        Assert.True(await socket.ReceiveMessageAsync(message, CancellationToken.None));

        Assert.Equal("hello", Encoding.ASCII.GetString(message.WrittenSpan));
        var pong = await wire.ServerReadsFrameAsync();
        Assert.Equal((0x0A, "p1"), (pong.Opcode, pong.Payload));
    }

    [Fact]
    public async Task ReceiveMessageAsync_ServerCloses_FalseAndTheCloseIsEchoedWithItsStatus()
    {
        await using var wire = new Wire();
        using var socket = new XdsWebSocket(wire.ClientSide);
        await wire.ServerSendsAsync([0x88, 0x02, 0x03, 0xE8]);

        Assert.False(await socket.ReceiveMessageAsync(new ArrayBufferWriter<byte>(), CancellationToken.None));

        var close = await wire.ServerReadsFrameAsync();
        Assert.Equal(0x08, close.Opcode);
        Assert.Equal([0x03, 0xE8], close.Raw);
    }

    [Fact]
    public async Task ReceiveMessageAsync_MaskedFrameFromTheServer_Refused()
    {
        await using var wire = new Wire();
        using var socket = new XdsWebSocket(wire.ClientSide);
        await wire.ServerSendsAsync([0x81, 0x81, 1, 2, 3, 4, (byte)('x' ^ 1)]);

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ReceiveMessageAsync(new ArrayBufferWriter<byte>(), CancellationToken.None));
    }

    [Theory]
    [InlineData(5)]
    [InlineData(126)]
    [InlineData(70_000)]
    public async Task SendTextAsync_AnyLength_OneMaskedFinalTextFrameTheServerDecodes(int length)
    {
        await using var wire = new Wire();
        using var socket = new XdsWebSocket(wire.ClientSide);
        var text = new string('j', length);

        await socket.SendTextAsync(Encoding.ASCII.GetBytes(text), CancellationToken.None);

        var frame = await wire.ServerReadsFrameAsync();
        Assert.Equal((0x01, true, true), (frame.Opcode, frame.Fin, frame.Masked));
        Assert.Equal(text, frame.Payload);
    }

    [Fact]
    public async Task SendTextAsync_TwoFrames_DifferentMaskingKeys()
    {
        await using var wire = new Wire();
        using var socket = new XdsWebSocket(wire.ClientSide);
        await socket.SendTextAsync("a"u8.ToArray(), CancellationToken.None);
        await socket.SendTextAsync("a"u8.ToArray(), CancellationToken.None);

        var first = await wire.ServerReadsFrameAsync();
        var second = await wire.ServerReadsFrameAsync();
        Assert.NotEqual(first.Key, second.Key);
    }

    private static byte[] Frame(byte opcode, string payload, bool fin = true)
    {
        var bytes = Encoding.ASCII.GetBytes(payload);
        return [(byte)((fin ? 0x80 : 0) | opcode), (byte)bytes.Length, .. bytes];
    }

    /// <summary>Two pipes: what the server sends, the client reads, and the other way round.</summary>
    private sealed class Wire : IAsyncDisposable
    {
        // Unbounded: a test writes a whole 70 KB frame before it reads it back.
        private static readonly PipeOptions Unbounded = new(pauseWriterThreshold: 0);
        private readonly Pipe _toClient = new(Unbounded);
        private readonly Pipe _toServer = new(Unbounded);

        public Wire() => ClientSide = new DuplexStream(_toClient.Reader.AsStream(), _toServer.Writer.AsStream());

        public Stream ClientSide { get; }

        public async Task ServerSendsAsync(params byte[][] frames)
        {
            foreach (var frame in frames)
            {
                await _toClient.Writer.WriteAsync(frame);
            }
        }

        public async Task<(int Opcode, bool Fin, bool Masked, string Payload, byte[] Raw, byte[] Key)> ServerReadsFrameAsync()
        {
            var server = _toServer.Reader.AsStream(leaveOpen: true);
            var head = new byte[2];
            await server.ReadExactlyAsync(head).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            long length = head[1] & 0x7F;
            if (length == 126)
            {
                var extended = new byte[2];
                await server.ReadExactlyAsync(extended);
                length = (extended[0] << 8) | extended[1];
            }
            else if (length == 127)
            {
                var extended = new byte[8];
                await server.ReadExactlyAsync(extended);
                length = (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(extended);
            }

            var key = new byte[4];
            var masked = (head[1] & 0x80) != 0;
            if (masked)
            {
                await server.ReadExactlyAsync(key);
            }

            var payload = new byte[length];
            await server.ReadExactlyAsync(payload);
            for (var i = 0; i < payload.Length; i++)
            {
                payload[i] ^= key[i & 3];
            }

            return (head[0] & 0x0F, (head[0] & 0x80) != 0, masked, Encoding.ASCII.GetString(payload), payload, key);
        }

        public async ValueTask DisposeAsync()
        {
            await _toClient.Writer.CompleteAsync();
            await _toServer.Writer.CompleteAsync();
        }
    }

    private sealed class DuplexStream(Stream read, Stream write) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => read.ReadAsync(buffer, cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => read.Read(buffer, offset, count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => write.WriteAsync(buffer, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => write.Write(buffer, offset, count);

        public override Task FlushAsync(CancellationToken cancellationToken) => write.FlushAsync(cancellationToken);

        public override void Flush() => write.Flush();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
