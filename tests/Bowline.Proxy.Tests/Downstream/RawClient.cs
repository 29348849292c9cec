using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

using Bowline.Proxy.Tests.Http1;

namespace Bowline.Proxy.Tests.Downstream;

/// <summary>
/// A downstream client on a raw socket: writes any bytes, and parses responses strictly (a server that frames a body
/// wrongly fails the parse instead of being guessed around). Every read is bounded by a generous hang guard.
/// </summary>
internal sealed class RawClient : IAsyncDisposable
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(30);
    private readonly Socket _socket;
    private readonly HttpByteReader _reader;

    private RawClient(Socket socket)
    {
        _socket = socket;
        _reader = new HttpByteReader(ReceiveAsync, strict: true);
    }

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

    private Task<byte[]> ReadToEndBytesAsync() => _reader.ReadToEndAsync(e => e is SocketException, CancellationToken.None);

    private Task<string?> ReadHeadAsync() => _reader.ReadHeadAsync(CancellationToken.None);

    private Task<byte[]> ReadChunkedAsync() => _reader.ReadChunkedAsync(CancellationToken.None);

    private Task<byte[]> ReadExactAsync(int count) => _reader.ReadExactAsync(count, CancellationToken.None);

    /// <summary>One read, bounded by the hang guard.</summary>
    private async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken token)
    {
        using var guard = CancellationTokenSource.CreateLinkedTokenSource(token);
        guard.CancelAfter(HangGuard);
        try
        {
            return await _socket.ReceiveAsync(buffer, SocketFlags.None, guard.Token);
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            throw new TimeoutException("the server neither answered nor closed within the hang guard");
        }
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
