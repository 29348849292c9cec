using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Bowline.Proxy.Tests.Downstream;

/// <summary>
/// A downstream client on a raw socket: writes any bytes, and parses responses strictly (a server that frames a body
/// wrongly fails the parse instead of being guessed around). Every read is bounded by a generous hang guard.
/// </summary>
internal sealed class RawClient : IAsyncDisposable
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(30);
    private readonly Socket _socket;
    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    private RawClient(Socket socket) => _socket = socket;

    public static async Task<RawClient> ConnectAsync(IPEndPoint endpoint)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint);
            return new RawClient(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public Task SendAsync(string text) => SendAsync(Encoding.Latin1.GetBytes(text));

    /// <summary>Sends all the bytes (one send call, so pipelined requests travel together).</summary>
    public async Task SendAsync(byte[] bytes)
    {
        using var guard = new CancellationTokenSource(HangGuard);
        var sent = 0;
        while (sent < bytes.Length)
        {
            sent += await _socket.SendAsync(bytes.AsMemory(sent), SocketFlags.None, guard.Token);
        }
    }

    /// <summary>Sends, tolerating a server that answered and closed before reading everything.</summary>
    public async Task TrySendAsync(string text)
    {
        try
        {
            await SendAsync(text);
        }
        catch (SocketException)
        {
        }
    }

    /// <summary>Half-closes: the server sees the end of the request stream.</summary>
    public void ShutdownSend() => _socket.Shutdown(SocketShutdown.Send);

    /// <summary>Abortive close (RST).</summary>
    public void Reset()
    {
        _socket.LingerState = new LingerOption(true, 0);
        _socket.Close();
    }

    /// <summary>
    /// The next response, its body delimited as its head says. <paramref name="requestMethod"/> HEAD means no body
    /// whatever the head says (RFC 9112 §6.3).
    /// </summary>
    public async Task<RawResponse> ReadResponseAsync(string requestMethod = "GET")
    {
        var head = await ReadHeadAsync() ?? throw new IOException("closed before a response began");
        var lines = head.Split("\r\n");
        var fields = lines.Skip(1).Select(line =>
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            Assert.True(colon > 0, $"malformed response field line: {line}");
            return (line[..colon], line[(colon + 1)..].Trim());
        }).ToList();
        var response = new RawResponse(lines[0], fields, [], "none");
        var status = response.Status;
        if (requestMethod == "HEAD" || status is >= 100 and < 200 or 204 or 304)
        {
            return response;
        }

        if (response.Single("Transfer-Encoding") is { } coding)
        {
            Assert.Equal("chunked", coding);
            Assert.Null(response.Single("Content-Length"));
            return response with { Body = await ReadChunkedAsync(), Framing = "chunked" };
        }

        if (response.Single("Content-Length") is { } length)
        {
            return response with { Body = await ReadExactAsync(int.Parse(length, NumberStyles.None, CultureInfo.InvariantCulture)), Framing = "content-length" };
        }

        return response with { Body = await ReadToEndBytesAsync(), Framing = "close" };
    }

    /// <summary>Everything the server still sends until it closes (a reset counts as a close).</summary>
    public async Task<string> ReadToEndAsync() => Encoding.Latin1.GetString(await ReadToEndBytesAsync());

    private async Task<byte[]> ReadToEndBytesAsync()
    {
        try
        {
            while (await FillAsync())
            {
            }
        }
        catch (SocketException)
        {
        }

        var rest = _buffer.AsSpan(_start, _end - _start).ToArray();
        _start = _end;
        return rest;
    }

    private async Task<string?> ReadHeadAsync()
    {
        var lines = new List<string>();
        while (true)
        {
            var line = await ReadLineAsync();
            if (line is null)
            {
                return lines.Count == 0 ? null : throw new IOException("closed inside a response head");
            }

            if (line.Length == 0)
            {
                return string.Join("\r\n", lines);
            }

            lines.Add(line);
        }
    }

    private async Task<byte[]> ReadChunkedAsync()
    {
        using var body = new MemoryStream();
        while (true)
        {
            var sizeLine = await ReadLineAsync() ?? throw new IOException("closed inside a chunked body");
            var size = int.Parse(sizeLine.Split(';')[0], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            if (size == 0)
            {
                while (await ReadLineAsync() is { Length: > 0 })
                {
                }

                return body.ToArray();
            }

            body.Write(await ReadExactAsync(size));
            Assert.Equal("", await ReadLineAsync());
        }
    }

    private async Task<byte[]> ReadExactAsync(int count)
    {
        var result = new byte[count];
        var filled = 0;
        while (filled < count)
        {
            if (_start == _end && !await FillAsync())
            {
                throw new IOException($"closed after {filled} of {count} body bytes");
            }

            var n = Math.Min(count - filled, _end - _start);
            _buffer.AsSpan(_start, n).CopyTo(result.AsSpan(filled));
            _start += n;
            filled += n;
        }

        return result;
    }

    /// <summary>A line ended by CRLF exactly: a server sending bare LF fails here.</summary>
    private async Task<string?> ReadLineAsync()
    {
        while (true)
        {
            var lf = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (lf >= 0)
            {
                Assert.True(lf > 0 && _buffer[_start + lf - 1] == '\r', "a line not ended by CRLF");
                var line = Encoding.Latin1.GetString(_buffer, _start, lf - 1);
                _start += lf + 1;
                return line;
            }

            if (!await FillAsync())
            {
                return null;
            }
        }
    }

    private async Task<bool> FillAsync()
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

        using var guard = new CancellationTokenSource(HangGuard);
        int read;
        try
        {
            read = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, guard.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("the server neither answered nor closed within the hang guard");
        }

        _end += read;
        return read > 0;
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>One response as received: status line, fields as sent, decoded body, and how the body was delimited.</summary>
internal sealed record RawResponse(string StatusLine, IReadOnlyList<(string Name, string Value)> Fields, byte[] Body, string Framing)
{
    public int Status => int.Parse(StatusLine.Split(' ')[1], CultureInfo.InvariantCulture);

    public string BodyText => Encoding.Latin1.GetString(Body);

    public string[] Lines(string name) => [.. Fields.Where(f => f.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(f => f.Value)];

    public string? Single(string name) => Lines(name) switch
    {
        [] => null,
        [var one] => one,
        var many => throw new Xunit.Sdk.XunitException($"{name} sent on {many.Length} lines: {string.Join(" | ", many)}"),
    };

    /// <summary>Whether the Connection field lists this option.</summary>
    public bool ConnectionHas(string option) =>
        Lines("Connection").SelectMany(v => v.Split(',')).Any(o => o.Trim().Equals(option, StringComparison.OrdinalIgnoreCase));
}
