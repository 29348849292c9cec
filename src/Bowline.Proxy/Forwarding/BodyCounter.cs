using Bowline.Proxy.Pipeline;

namespace Bowline.Proxy.Forwarding;

/// <summary>
/// Copies a body of unknown length while counting its bytes and, for gRPC, its length-prefixed messages (each message
/// is a 1-byte flag and a 4-byte big-endian length, then the payload), for istio_request_bytes / istio_response_bytes
/// and istio_request_messages_total / istio_response_messages_total. Non-gRPC bodies with a Content-Length are not copied
/// here (the length says their size).
/// </summary>
internal static class BodyCounter
{
    private const int BufferSize = 16 * 1024;

    /// <summary>application/grpc, +proto, +json …: the bodies whose messages are counted.</summary>
    public static bool IsGrpc(string? contentType) =>
        contentType is not null && contentType.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase);

    public static async Task CopyAsync(Stream from, Stream to, ProxyRequestFeature feature, bool isResponse, CancellationToken token)
    {
        await using var counted = new CountingReadStream(from, feature, isResponse);
        await counted.CopyToAsync(to, BufferSize, token);
    }

    private static void Publish(ProxyRequestFeature feature, bool isResponse, long bytes, long messages)
    {
        if (isResponse)
        {
            feature.ResponseBodyBytes = bytes;
            feature.ResponseMessages = messages;
        }
        else
        {
            feature.RequestBodyBytes = bytes;
            feature.RequestMessages = messages;
        }
    }

    /// <summary>
    /// Walks gRPC framing across reads: counts a message when its 5-byte prefix is complete. Any body parses as frames,
    /// so for non-gRPC bodies the count is meaningless and the metrics use it for gRPC requests only.
    /// </summary>
    internal struct GrpcFrames
    {
        private int _headerBytes;   // prefix bytes seen of the current frame (0–5)
        private uint _length;       // the current frame's payload length, once its prefix is complete
        private long _payloadLeft;  // payload bytes still to skip

        public long Messages { get; private set; }

        public void Scan(ReadOnlySpan<byte> data)
        {
            var i = 0;
            while (i < data.Length)
            {
                if (_payloadLeft > 0)
                {
                    var skip = (int)Math.Min(_payloadLeft, data.Length - i);
                    _payloadLeft -= skip;
                    i += skip;
                    continue;
                }

                // Prefix byte 0 is the compression flag; bytes 1–4 the length.
                if (_headerBytes > 0)
                {
                    _length = (_length << 8) | data[i];
                }

                _headerBytes++;
                i++;
                if (_headerBytes == 5)
                {
                    Messages++;
                    _payloadLeft = _length;
                    _headerBytes = 0;
                    _length = 0;
                }
            }
        }
    }

    /// <summary>
    /// A body counted as it is read, published as it grows (a response may end in an abort, and the count so far is
    /// still true). For a request: the bytes and gRPC messages the client sent, whichever try (or the retry buffer)
    /// carries them upstream.
    /// </summary>
    internal sealed class CountingReadStream(Stream inner, ProxyRequestFeature feature, bool isResponse = false) : Stream
    {
        private GrpcFrames _grpc;
        private long _total;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            Count(buffer.Span[..read]);
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = inner.Read(buffer, offset, count);
            Count(buffer.AsSpan(offset, read));
            return read;
        }

        private void Count(ReadOnlySpan<byte> data)
        {
            _total += data.Length;
            _grpc.Scan(data);
            Publish(feature, isResponse, _total, _grpc.Messages);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
