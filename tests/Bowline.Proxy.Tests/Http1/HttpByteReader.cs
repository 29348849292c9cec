using System.Globalization;
using System.Text;

namespace Bowline.Proxy.Tests.Http1;

/// <summary>
/// Buffered reads of raw HTTP/1.1 off a connection, for the raw test peers (<see cref="RawConnection"/> playing an
/// upstream, Downstream.RawClient playing a client): lines, heads, exact byte counts, chunked bodies, the rest.
/// </summary>
/// <param name="receive">One read from the connection; 0 when the peer closed.</param>
/// <param name="strict">
/// Lines must end with CRLF and chunk sizes carry no whitespace (a peer framing sloppily fails the test); else a bare
/// LF ends a line and a chunk size is trimmed.
/// </param>
internal sealed class HttpByteReader(Func<Memory<byte>, CancellationToken, ValueTask<int>> receive, bool strict)
{
    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    /// <summary>The head up to the empty line; null when the peer closed before a new message began.</summary>
    public async Task<string?> ReadHeadAsync(CancellationToken token)
    {
        var lines = new List<string>();
        while (true)
        {
            var line = await ReadLineAsync(token);
            if (line is null)
            {
                return lines.Count == 0 ? null : throw new IOException("peer closed inside a head");
            }

            if (line.Length == 0)
            {
                return string.Join("\r\n", lines);
            }

            lines.Add(line);
        }
    }

    public async Task<byte[]> ReadExactAsync(int count, CancellationToken token)
    {
        var result = new byte[count];
        var filled = 0;
        while (filled < count)
        {
            if (_start == _end && !await FillAsync(token))
            {
                throw new IOException($"peer closed after {filled} of {count} body bytes");
            }

            var n = Math.Min(count - filled, _end - _start);
            _buffer.AsSpan(_start, n).CopyTo(result.AsSpan(filled));
            _start += n;
            filled += n;
        }

        return result;
    }

    /// <summary>A chunked body, decoded; trailer fields read and dropped.</summary>
    public async Task<byte[]> ReadChunkedAsync(CancellationToken token)
    {
        using var body = new MemoryStream();
        while (true)
        {
            var sizeLine = await ReadLineAsync(token) ?? throw new IOException("peer closed inside a chunked body");
            var size = int.Parse(strict ? sizeLine.Split(';')[0] : sizeLine.Split(';')[0].Trim(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            if (size == 0)
            {
                while (await ReadLineAsync(token) is { Length: > 0 })
                {
                }

                return body.ToArray();
            }

            body.Write(await ReadExactAsync(size, token));
            if (await ReadLineAsync(token) is not "")
            {
                throw new IOException("chunk data not followed by CRLF");
            }
        }
    }

    /// <summary>What is buffered plus everything until the peer closes (a failing read is the caller's to catch).</summary>
    public async Task<byte[]> ReadToEndAsync(Func<Exception, bool> endsTheStream, CancellationToken token)
    {
        try
        {
            while (await FillAsync(token))
            {
            }
        }
        catch (Exception e) when (endsTheStream(e))
        {
        }

        var rest = _buffer.AsSpan(_start, _end - _start).ToArray();
        _start = _end;
        return rest;
    }

    private async Task<string?> ReadLineAsync(CancellationToken token)
    {
        while (true)
        {
            var lf = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (lf >= 0)
            {
                var crlf = lf > 0 && _buffer[_start + lf - 1] == '\r';
                if (strict && !crlf)
                {
                    throw new Xunit.Sdk.XunitException("a line not ended by CRLF");
                }

                var line = Encoding.Latin1.GetString(_buffer, _start, crlf ? lf - 1 : lf);
                _start += lf + 1;
                return line;
            }

            if (!await FillAsync(token))
            {
                return null;
            }
        }
    }

    private async Task<bool> FillAsync(CancellationToken token)
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
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }
        }

        var read = await receive(_buffer.AsMemory(_end), token);
        _end += read;
        return read > 0;
    }
}
