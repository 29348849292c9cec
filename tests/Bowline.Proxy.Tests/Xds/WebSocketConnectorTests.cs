using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Bowline.Proxy.Xds;

namespace Bowline.Proxy.Tests.Xds;

/// <summary>The control-plane stream's own WebSocket opening handshake (RFC 6455 §4), against raw scripted servers.</summary>
public sealed class WebSocketConnectorTests
{
    [Fact]
    public void Sha1_AnyLengthAroundTheBlockBoundaries_EqualsDotNetSha1()
    {
        var random = new Random(7);
        foreach (var length in Enumerable.Range(0, 200).Concat([1000, 4096, 100_003]))
        {
            var data = new byte[length];
            random.NextBytes(data);
#pragma warning disable CA5350 // The reference the own implementation is checked against; the handshake needs SHA-1.
            Assert.Equal(SHA1.HashData(data), Sha1.Hash(data));
#pragma warning restore CA5350
        }
    }

    [Fact]
    public void ExpectedAccept_Rfc6455Example_IsTheSpecsValue()
    {
        // RFC 6455 §1.3.
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", WebSocketConnector.ExpectedAccept("dGhlIHNhbXBsZSBub25jZQ=="));
    }

    [Fact]
    public async Task ConnectAsync_ServerAnswers101WithAFrameInTheSameSegment_FrameIsTheFirstMessage()
    {
        // The server's first frame arrives together with its 101 head: it must not be lost in the handshake buffer.
        var frame = new byte[] { 0x81, 0x05 }.Concat("hello"u8.ToArray()).ToArray();
        await using var server = ScriptedServer.Start(key => Head(101, WebSocketConnector.ExpectedAccept(key)).Concat(frame).ToArray());

        using var socket = await WebSocketConnector.ConnectAsync(server.Uri, CancellationToken.None);
        var message = new ArrayBufferWriter<byte>();

        Assert.True(await socket.ReceiveMessageAsync(message, CancellationToken.None));
        Assert.Equal("hello", Encoding.ASCII.GetString(message.WrittenSpan));
        var request = await server.Request;
        Assert.StartsWith("GET /xds/v1/stream HTTP/1.1\r\n", request);
        Assert.Contains("\r\nSec-WebSocket-Version: 13\r\n", request);
        Assert.Contains($"\r\nHost: 127.0.0.1:{server.Uri.Port}\r\n", request);
    }

    [Theory]
    [InlineData(200, true)]
    [InlineData(101, false)]
    public async Task ConnectAsync_NotA101OrWrongAccept_FailsAsWebSocketException(int status, bool correctAccept)
    {
        await using var server = ScriptedServer.Start(key => Head(status, correctAccept ? WebSocketConnector.ExpectedAccept(key) : "d3JvbmcgYWNjZXB0IHZhbHVlIQ==")
            .ToArray());

        await Assert.ThrowsAsync<WebSocketException>(() => WebSocketConnector.ConnectAsync(server.Uri, CancellationToken.None));
    }

    [Fact]
    public async Task ConnectAsync_NothingListening_FailsAsWebSocketException()
    {
        var uri = new Uri($"ws://127.0.0.1:{FreePortOf()}/xds/v1/stream");
        var error = await Assert.ThrowsAsync<WebSocketException>(() => WebSocketConnector.ConnectAsync(uri, CancellationToken.None));
        Assert.StartsWith("Unable to connect to the remote server", error.Message);
    }

    private static byte[] Head(int status, string accept) => Encoding.ASCII.GetBytes(
        $"HTTP/1.1 {status} Whatever\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n");

    private static int FreePortOf()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Accepts one connection, reads the request head, answers with the script's bytes (given the request's key).</summary>
    private sealed class ScriptedServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly TaskCompletionSource<string> _request = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Task _serving;
        private Socket? _accepted;

        private ScriptedServer(Func<string, byte[]> answer)
        {
            _listener.Start();
            Uri = new Uri($"ws://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/xds/v1/stream");
            _serving = ServeAsync(answer);
        }

        public Uri Uri { get; }

        public Task<string> Request => _request.Task;

        public static ScriptedServer Start(Func<string, byte[]> answer) => new(answer);

        private async Task ServeAsync(Func<string, byte[]> answer)
        {
            _accepted = await _listener.AcceptSocketAsync();
            var head = new StringBuilder();
            var buffer = new byte[4096];
            while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var read = await _accepted.ReceiveAsync(buffer);
                if (read == 0)
                {
                    return;
                }

                head.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }

            var request = head.ToString();
            _request.TrySetResult(request);
            var key = request.Split("\r\n").First(l => l.StartsWith("Sec-WebSocket-Key:", StringComparison.Ordinal))["Sec-WebSocket-Key:".Length..].Trim();
            await _accepted.SendAsync(answer(key));
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _accepted?.Dispose();
            try
            {
                await _serving.WaitAsync(TimeSpan.FromSeconds(30));
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Stopped mid-accept or mid-read: the test is over.
            }
        }
    }
}
