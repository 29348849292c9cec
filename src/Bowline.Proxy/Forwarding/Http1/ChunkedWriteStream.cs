using System.Buffers;

namespace Bowline.Proxy.Forwarding.Http1;

/// <summary>
/// Chunked transfer coding (RFC 9112 §7.1) of a request body of unknown length: each write becomes one chunk, sent
/// with its size line and CRLF in one write; <see cref="EndAsync"/> writes the last chunk.
/// </summary>
internal sealed class ChunkedWriteStream(Stream inner) : Stream
{
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            // An empty chunk would be the last one.
            return;
        }

        var framed = ArrayPool<byte>.Shared.Rent(buffer.Length + 32);
        try
        {
            var n = 0;
            buffer.Length.TryFormat(framed, out var written, "x", System.Globalization.CultureInfo.InvariantCulture);
            n += written;
            framed[n++] = (byte)'\r';
            framed[n++] = (byte)'\n';
            buffer.Span.CopyTo(framed.AsSpan(n));
            n += buffer.Length;
            framed[n++] = (byte)'\r';
            framed[n++] = (byte)'\n';
            await inner.WriteAsync(framed.AsMemory(0, n), cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(framed);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private static readonly byte[] LastChunk = "0\r\n\r\n"u8.ToArray();

    public ValueTask EndAsync(CancellationToken cancellationToken) => inner.WriteAsync(LastChunk, cancellationToken);

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
    public override void Flush() => inner.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();
}
