using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Bowline.Bench.LoadGen;

/// <summary>
/// One keep-alive HTTP/1.1 connection on a blocking socket: send a prebuilt request, read one whole response
/// (Content-Length or chunked), no pipelining. Reconnects when the server closes.
/// </summary>
internal sealed class HttpConnection(IPEndPoint endpoint, byte[] request) : IDisposable
{
    private readonly byte[] _buffer = new byte[64 * 1024];
    private Socket? _socket;
    private int _start;
    private int _end;

    /// <summary>Sends the request and reads the response; returns the status code.</summary>
    /// <exception cref="IOException">The connection failed or the response was malformed (the connection is then dropped).</exception>
    public int Exchange()
    {
        try
        {
            if (_socket is null)
            {
                _socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                _socket.Connect(endpoint);
                _start = _end = 0;
            }

            _socket.Send(request);
            return ReadResponse();
        }
        catch (Exception e) when (e is SocketException or IOException or FormatException)
        {
            Drop();
            throw new IOException(e.Message, e);
        }
    }

    private int ReadResponse()
    {
        var headerEnd = FindHeaderEnd();
        var head = Encoding.ASCII.GetString(_buffer, _start, headerEnd - _start);
        _start = headerEnd + 4;
        var lines = head.Split("\r\n");
        var status = int.Parse(lines[0].AsSpan(9, 3), provider: System.Globalization.CultureInfo.InvariantCulture);
        long contentLength = -1;
        var chunked = false;
        var close = false;
        for (var i = 1; i < lines.Length; i++)
        {
            var colon = lines[i].IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var name = lines[i].AsSpan(0, colon).Trim();
            var value = lines[i].AsSpan(colon + 1).Trim();
            if (name.Equals("content-length", StringComparison.OrdinalIgnoreCase))
            {
                contentLength = long.Parse(value, provider: System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (name.Equals("transfer-encoding", StringComparison.OrdinalIgnoreCase) && value.Contains("chunked", StringComparison.OrdinalIgnoreCase))
            {
                chunked = true;
            }
            else if (name.Equals("connection", StringComparison.OrdinalIgnoreCase) && value.Equals("close", StringComparison.OrdinalIgnoreCase))
            {
                close = true;
            }
        }

        if (chunked)
        {
            while (true)
            {
                var lineEnd = FindCrLf();
                var line = Encoding.ASCII.GetString(_buffer, _start, lineEnd - _start);
                _start = lineEnd + 2;
                var semi = line.IndexOf(';', StringComparison.Ordinal);
                var size = Convert.ToInt64(semi >= 0 ? line[..semi] : line, 16);
                if (size == 0)
                {
                    // No trailers expected: the final CRLF.
                    Skip(2);
                    break;
                }

                Skip(size + 2);
            }
        }
        else if (contentLength > 0)
        {
            Skip(contentLength);
        }
        else if (contentLength < 0 && status >= 200 && status != 204 && status != 304)
        {
            throw new IOException("response without Content-Length or chunked body");
        }

        if (close)
        {
            Drop();
        }

        return status;
    }

    private int FindHeaderEnd()
    {
        // Offset from _start already searched (Fill moves _start).
        var searched = 0;
        while (true)
        {
            var idx = _buffer.AsSpan(_start + searched, _end - _start - searched).IndexOf("\r\n\r\n"u8);
            if (idx >= 0)
            {
                return _start + searched + idx;
            }

            searched = Math.Max(0, _end - _start - 3);
            Fill();
        }
    }

    private int FindCrLf()
    {
        while (true)
        {
            var idx = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8);
            if (idx >= 0)
            {
                return _start + idx;
            }

            Fill();
        }
    }

    private void Skip(long count)
    {
        while (count > 0)
        {
            if (_start == _end)
            {
                Fill();
            }

            var n = (int)Math.Min(count, _end - _start);
            _start += n;
            count -= n;
        }
    }

    /// <summary>Reads more bytes, compacting the buffer first.</summary>
    private void Fill()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            throw new IOException("response header larger than 64 KB");
        }

        var n = _socket!.Receive(_buffer, _end, _buffer.Length - _end, SocketFlags.None);
        if (n == 0)
        {
            throw new IOException("connection closed by the server");
        }

        _end += n;
    }

    private void Drop()
    {
        _socket?.Dispose();
        _socket = null;
        _start = _end = 0;
    }

    public void Dispose() => Drop();
}
