using Bowline.Proxy.Forwarding;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Authentication;
using System.Text;

namespace Bowline.Proxy.Xds;

/// <summary>
/// Opens the control-plane stream: the RFC 6455 opening handshake over a socket (TLS for wss), then
/// <see cref="XdsWebSocket"/> framing. ClientWebSocket does the same but checks the server's Sec-WebSocket-Accept with
/// .NET's SHA1 and masks frames with RandomNumberGenerator, both of which load OpenSSL into every proxy (~4 MB
/// resident) even when nothing else in it uses TLS.
/// </summary>
internal static class WebSocketConnector
{
    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    private const int MaxHeadBytes = 16 * 1024;

    // A control plane that accepts the connection but never answers must not hold the stream forever.
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    /// <exception cref="WebSocketException">Connecting, TLS or the handshake failed.</exception>
    public static async Task<XdsWebSocket> ConnectAsync(Uri uri, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(HandshakeTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        try
        {
            await socket.ConnectAsync(uri.IdnHost, uri.Port, timeout.Token);
            stream = new NetworkStream(socket, ownsSocket: true);
            if (uri.Scheme == "wss")
            {
                var ssl = new SslStream(stream);
                stream = ssl;
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = uri.IdnHost }, timeout.Token);
            }

            // 16 random bytes (§4.1), from the kernel through Guid.NewGuid: RandomNumberGenerator would load OpenSSL.
            var key = Convert.ToBase64String(Guid.NewGuid().ToByteArray());
            var request = $"GET {uri.PathAndQuery} HTTP/1.1\r\nHost: {uri.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          + $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request), timeout.Token);
            var leftover = await ReadHandshakeResponseAsync(stream, ExpectedAccept(key), timeout.Token);
            if (leftover.Length > 0)
            {
                stream = new PrefixedStream(leftover, stream);
            }

            return new XdsWebSocket(stream);
        }
        catch (Exception e) when (e is SocketException or IOException or AuthenticationException
                                      || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            await CloseAsync(socket, stream);
            throw new WebSocketException(WebSocketError.Faulted, $"Unable to connect to the remote server: {e.Message}", e);
        }
        catch
        {
            await CloseAsync(socket, stream);
            throw;
        }
    }

    private static async ValueTask CloseAsync(Socket socket, Stream? stream)
    {
        if (stream is null)
        {
            socket.Dispose();
        }
        else
        {
            await stream.DisposeAsync();
        }
    }

    /// <summary>base64(SHA-1(key + the RFC 6455 GUID)): what the server must answer in Sec-WebSocket-Accept.</summary>
    public static string ExpectedAccept(string key) => Convert.ToBase64String(Sha1.Hash(Encoding.ASCII.GetBytes(key + AcceptGuid)));

    /// <summary>Reads the response head and checks it is the 101 for this key; returns the bytes read past the head.</summary>
    private static async Task<byte[]> ReadHandshakeResponseAsync(Stream stream, string expectedAccept, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxHeadBytes];
        var length = 0;
        while (true)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken);
            if (read == 0)
            {
                throw new WebSocketException(WebSocketError.HeaderError, "the control plane closed the connection during the WebSocket handshake");
            }

            length += read;
            var end = buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                CheckResponse(Encoding.Latin1.GetString(buffer, 0, end), expectedAccept);
                return buffer[(end + 4)..length];
            }

            if (length == buffer.Length)
            {
                throw new WebSocketException(WebSocketError.HeaderError, "WebSocket handshake response head too large");
            }
        }
    }

    private static void CheckResponse(string head, string expectedAccept)
    {
        var lines = head.Split("\r\n");
        var status = lines[0].Split(' ', 3);
        if (status.Length < 2 || !status[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || status[1] != "101")
        {
            throw new WebSocketException(WebSocketError.NotAWebSocket, $"the control plane answered '{lines[0]}', not 101 Switching Protocols");
        }

        string? upgrade = null, connection = null, accept = null;
        foreach (var line in lines.AsSpan(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase))
            {
                upgrade = value;
            }
            else if (name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
            {
                connection = value;
            }
            else if (name.Equals("Sec-WebSocket-Accept", StringComparison.OrdinalIgnoreCase))
            {
                accept = value;
            }
        }

        // RFC 6455 §4.1: the client must fail the connection unless all three are as required.
        if (!"websocket".Equals(upgrade, StringComparison.OrdinalIgnoreCase)
            || connection is null || !HeaderTokens.Lists(connection, "upgrade")
            || accept != expectedAccept)
        {
            throw new WebSocketException(WebSocketError.HeaderError, "the control plane's WebSocket handshake response is invalid");
        }
    }

    /// <summary>The stream after the handshake, with the bytes that arrived together with the response head first.</summary>
    private sealed class PrefixedStream(byte[] prefix, Stream inner) : Stream
    {
        private int _offset;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_offset < prefix.Length)
            {
                var count = Math.Min(buffer.Length, prefix.Length - _offset);
                prefix.AsMemory(_offset, count).CopyTo(buffer);
                _offset += count;
                return ValueTask.FromResult(count);
            }

            return inner.ReadAsync(buffer, cancellationToken);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            inner.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            inner.WriteAsync(buffer, offset, count, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
