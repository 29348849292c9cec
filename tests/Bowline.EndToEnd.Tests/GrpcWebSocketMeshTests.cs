using System.Buffers.Binary;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;
using Bowline.EndToEnd.Tests.Infrastructure;

namespace Bowline.EndToEnd.Tests;

/// <summary>
/// `bowline up samples/grpc`: gRPC streaming and WebSocket echo from the client's sidecar to the greeter's (the
/// client's /run page), and from the test through the gateway to the greeter's sidecar.
/// </summary>
public sealed class GrpcWebSocketMeshTests
{
    [Fact]
    public async Task Up_GrpcSample_StreamingAndWebSocketsThroughSidecarsAndTheGateway()
    {
        await using var mesh = await MeshProcess.StartAsync(Repo.Sample("grpc"));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

        // gateway → client sidecar → client app → client sidecar (h2c) → greeter sidecar → greeter (h2c), every kind of call.
        var report = await Eventually.WaitAsync(async () =>
        {
            using var response = await http.GetAsync(new Uri(mesh.Gateway, "/run"));
            return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadAsStringAsync() : null;
        }, TimeSpan.FromSeconds(30), "the client's /run to pass");
        foreach (var line in new[] { "unary: ok", "error: ok", "server-streaming: ok", "bidi: ok", "websocket: ok" })
        {
            Assert.Contains(line, report);
        }

        // From here through the gateway (h2c sniffed) to the greeter's sidecar: a bidi call in lock-step, so no hop may
        // hold a message back, then the stream's trailers.
        using var h2 = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };
        var outgoing = new Outgoing();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(mesh.Gateway, "/demo.Greeter/Echo"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = outgoing,
        };
        request.Headers.TryAddWithoutValidation("te", "trailers");
        outgoing.Headers.TryAddWithoutValidation("content-type", "application/grpc");
        using var call = await h2.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var body = await call.Content.ReadAsStreamAsync();
        for (var i = 0; i < 20; i++)
        {
            outgoing.Send($"ping {i}");
            Assert.Equal($"ping {i}", await ReadTextAsync(body).WaitAsync(TimeSpan.FromSeconds(20)));
        }

        outgoing.Complete();
        Assert.Null(await ReadTextAsync(body));
        Assert.Equal("0", call.TrailingHeaders.GetValues("grpc-status").Single());

        // WebSocket through the gateway: messages both ways, then the close handshake.
        using var socket = new ClientWebSocket();
        socket.Options.Proxy = null;
        await socket.ConnectAsync(new Uri($"ws://{mesh.Gateway.Authority}/echo"), CancellationToken.None);
        var buffer = new byte[8192];
        for (var i = 0; i < 50; i++)
        {
            var sent = Encoding.UTF8.GetBytes($"message {i} " + new string('x', i * 50));
            await socket.SendAsync(sent, WebSocketMessageType.Text, true, CancellationToken.None);
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                length += result.Count;
            }
            while (!result.EndOfMessage);
            Assert.Equal(sent, buffer[..length]);
        }

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
    }

    /// <summary>A demo.Text message (field 1, string) from a gRPC stream; null at its end.</summary>
    private static async Task<string?> ReadTextAsync(Stream stream)
    {
        var header = new byte[5];
        if (await stream.ReadAtLeastAsync(header, 5, throwOnEndOfStream: false) < 5)
        {
            return null;
        }

        var message = new byte[BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1))];
        await stream.ReadExactlyAsync(message);
        // Tag 0x0A, one-byte length (the test's texts are short), then UTF-8.
        return Encoding.UTF8.GetString(message, 2, message[1]);
    }

    private static byte[] Text(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var frame = new byte[5 + 2 + bytes.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)(2 + bytes.Length));
        frame[5] = 0x0A;
        frame[6] = (byte)bytes.Length;
        bytes.CopyTo(frame, 7);
        return frame;
    }

    private sealed class Outgoing : HttpContent
    {
        private readonly Channel<string> _messages = Channel.CreateUnbounded<string>();

        public void Send(string text) => _messages.Writer.TryWrite(text);

        public void Complete() => _messages.Writer.TryComplete();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.FlushAsync();
            await foreach (var text in _messages.Reader.ReadAllAsync())
            {
                await stream.WriteAsync(Text(text));
                await stream.FlushAsync();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
