using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;

namespace GrpcDemo;

/// <summary>
/// The client side: every kind of call, through the caller's sidecar. .NET's HTTP/2 client cannot speak h2c through an
/// HTTP proxy (and ClientWebSocket would tunnel with CONNECT), so both connect to the sidecar's outbound port — the
/// address in HTTP_PROXY — and name the service in :authority / Host. The sidecar routes by that name as for any call.
/// </summary>
internal sealed class Calls(Uri sidecar, string grpcAuthority, string webSocketAuthority) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Runs them all, writing one line per result; false when any went wrong.</summary>
    public async Task<bool> RunAsync(TextWriter log)
    {
        var ok = true;
        foreach (var (name, call) in new (string, Func<TextWriter, Task<bool>>)[]
        {
            ("unary", UnaryAsync), ("error", ErrorAsync), ("server-streaming", CountAsync), ("bidi", EchoAsync), ("websocket", WebSocketAsync),
        })
        {
            try
            {
                var passed = await call(log);
                await log.WriteLineAsync($"{name}: {(passed ? "ok" : "FAILED")}");
                ok &= passed;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or WebSocketException or FormatException or OperationCanceledException)
            {
                await log.WriteLineAsync($"{name}: FAILED {e.GetType().Name}: {e.Message}");
                ok = false;
            }
        }

        return ok;
    }

    private async Task<bool> UnaryAsync(TextWriter log)
    {
        using var response = await _http.SendAsync(Request("Say", new ByteArrayContent(Wire.Text("mesh"))));
        var body = await response.Content.ReadAsStreamAsync();
        var reply = Wire.ParseText(await Wire.ReadAsync(body) ?? []);
        await body.CopyToAsync(Stream.Null);
        await log.WriteLineAsync($"  Say(\"mesh\") = \"{reply}\", grpc-status {Status(response)}");
        return reply == "hello mesh" && Status(response) == "0";
    }

    private async Task<bool> ErrorAsync(TextWriter log)
    {
        using var response = await _http.SendAsync(Request("Say", new ByteArrayContent(Wire.Text("fail"))));
        await response.Content.CopyToAsync(Stream.Null);
        await log.WriteLineAsync($"  Say(\"fail\") → grpc-status {Status(response)}, grpc-message \"{Uri.UnescapeDataString(Header(response, "grpc-message") ?? "")}\"");
        return Status(response) == "5";
    }

    private async Task<bool> CountAsync(TextWriter log)
    {
        var clock = Stopwatch.StartNew();
        using var response = await _http.SendAsync(Request("Count", new ByteArrayContent(Wire.Number(5))), HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsStreamAsync();
        var seen = new List<int>();
        while (await Wire.ReadAsync(body) is { } message)
        {
            seen.Add(Wire.ParseNumber(message));
            await log.WriteLineAsync($"  Count(5) → {seen[^1]} at {clock.ElapsedMilliseconds} ms");
        }

        return seen.SequenceEqual([1, 2, 3, 4, 5]) && Status(response) == "0";
    }

    private async Task<bool> EchoAsync(TextWriter log)
    {
        var outgoing = new Outgoing();
        using var response = await _http.SendAsync(Request("Echo", outgoing), HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsStreamAsync();
        var ok = true;
        for (var i = 0; i < 10; i++)
        {
            // Ping-pong: message i+1 leaves only after the echo of i came back, so no hop may hold a message back.
            outgoing.Send($"ping {i}");
            var echo = Wire.ParseText(await Wire.ReadAsync(body) ?? []);
            ok &= echo == $"ping {i}";
        }

        outgoing.Complete();
        ok &= await Wire.ReadAsync(body) is null;
        await log.WriteLineAsync($"  Echo: 10 messages, each echoed before the next was sent; grpc-status {Status(response)}");
        return ok && Status(response) == "0";
    }

    private async Task<bool> WebSocketAsync(TextWriter log)
    {
        using var socket = new ClientWebSocket();
        socket.Options.Proxy = null;
        socket.Options.SetRequestHeader("Host", webSocketAuthority);
        await socket.ConnectAsync(new Uri($"ws://{sidecar.Authority}/echo"), CancellationToken.None);
        var buffer = new byte[64 * 1024];
        var ok = true;
        for (var i = 0; i < 100; i++)
        {
            var sent = Encoding.UTF8.GetBytes(new string((char)('a' + (i % 26)), i * 37));
            await socket.SendAsync(sent, WebSocketMessageType.Text, true, CancellationToken.None);
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                length += result.Count;
            }
            while (!result.EndOfMessage);
            ok &= buffer.AsSpan(0, length).SequenceEqual(sent);
        }

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        await log.WriteLineAsync($"  WebSocket: 100 messages echoed, closed with {socket.CloseStatus} \"{socket.CloseStatusDescription}\"");
        return ok && socket.CloseStatus == WebSocketCloseStatus.NormalClosure;
    }

    private HttpRequestMessage Request(string method, HttpContent content)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(sidecar, "/demo.Greeter/" + method))
        {
            Content = content,
            // h2c with prior knowledge: gRPC needs HTTP/2 (trailers, full duplex).
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.Host = grpcAuthority;
        request.Headers.TryAddWithoutValidation("te", "trailers");
        content.Headers.TryAddWithoutValidation("content-type", Wire.ContentType);
        return request;
    }

    /// <summary>grpc-status from the trailers, or from the headers of a trailers-only response.</summary>
    private static string? Status(HttpResponseMessage response) =>
        response.TrailingHeaders.TryGetValues("grpc-status", out var t) ? t.First() : Header(response, "grpc-status");

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var h) ? h.First()
        : response.TrailingHeaders.TryGetValues(name, out var t) ? t.First() : null;

    public void Dispose() => _http.Dispose();

    /// <summary>A request body written message by message while the response streams.</summary>
    private sealed class Outgoing : HttpContent
    {
        private readonly Channel<string> _messages = Channel.CreateUnbounded<string>();

        public void Send(string text) => _messages.Writer.TryWrite(text);

        public void Complete() => _messages.Writer.TryComplete();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            // HttpClient sends HTTP/2 request headers with the first flush: the call starts now, not at the first message.
            await stream.FlushAsync();
            await foreach (var text in _messages.Reader.ReadAllAsync())
            {
                await stream.WriteAsync(Wire.Text(text));
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
