using System.Buffers;
using System.Text;

namespace Bowline.Proxy.Forwarding.Http1;

/// <summary>
/// Writes a request head (request line, header fields, empty line) into a pooled buffer that goes out in one send.
/// Names and values are written as UTF-8 (ASCII for everything Kestrel accepted); a CR, LF or NUL in a value would
/// split the head, so it is refused rather than written.
/// </summary>
internal struct Http1RequestHead : IDisposable
{
    private byte[] _buffer;
    private int _length;

    public Http1RequestHead(int capacity)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(capacity);
        _length = 0;
    }

    public readonly ReadOnlyMemory<byte> Written => _buffer.AsMemory(0, _length);

    public void RequestLine(string method, string target)
    {
        Write(method);
        Write(" "u8);
        Write(target);
        Write(" HTTP/1.1\r\n"u8);
    }

    public void Header(string name, string? value)
    {
        value ??= "";
        if (value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
        {
            throw new InvalidOperationException($"header {name}: value contains CR, LF or NUL");
        }

        // One capacity check per field line, and the line narrowed in place when it is ASCII (nearly always): a head
        // carries a dozen lines, and four checked writes each were ~1k instructions of a proxied request.
        Ensure(name.Length + value.Length + 4);
        var line = _buffer.AsSpan(_length);
        if (Ascii.FromUtf16(name, line, out var n) == OperationStatus.Done
            && Ascii.FromUtf16(value, line[(n + 2)..], out var v) == OperationStatus.Done)
        {
            line[n] = (byte)':';
            line[n + 1] = (byte)' ';
            line[n + 2 + v] = (byte)'\r';
            line[n + 3 + v] = (byte)'\n';
            _length += n + v + 4;
            return;
        }

        Write(name);
        Write(": "u8);
        Write(value);
        Write("\r\n"u8);
    }

    /// <summary>Header lines already encoded and checked (each ending in CRLF).</summary>
    public void Raw(ReadOnlySpan<byte> lines) => Write(lines);

    public void End() => Write("\r\n"u8);

    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }

    private void Write(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    private void Write(string text)
    {
        // One pass for the usual ASCII text; anything else is rewritten from the start as UTF-8.
        Ensure(text.Length);
        if (Ascii.FromUtf16(text, _buffer.AsSpan(_length), out var written) == OperationStatus.Done)
        {
            _length += written;
            return;
        }

        Ensure(Encoding.UTF8.GetMaxByteCount(text.Length));
        _length += Encoding.UTF8.GetBytes(text, _buffer.AsSpan(_length));
    }

    private void Ensure(int more)
    {
        if (_length + more > _buffer.Length)
        {
            Grow(more);
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void Grow(int more)
    {
        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + more));
        _buffer.AsSpan(0, _length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = larger;
    }
}
