using System.Buffers.Binary;
using System.Net;
using System.Text;
using System.Threading.Channels;

namespace Bowline.Proxy.Tests.Infrastructure;

/// <summary>gRPC's length-prefixed framing by hand (no grpc-dotnet here): enough to drive calls through the proxy.</summary>
internal static class GrpcWire
{
    public static byte[] Frame(string message)
    {
        var payload = Encoding.UTF8.GetBytes(message);
        var frame = new byte[5 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(frame, 5);
        return frame;
    }

    /// <summary>The next message, or null at the end of the stream.</summary>
    public static async Task<string?> ReadAsync(Stream stream, CancellationToken token = default)
    {
        var header = new byte[5];
        var got = await stream.ReadAtLeastAsync(header, 5, throwOnEndOfStream: false, token);
        if (got == 0)
        {
            return null;
        }

        if (got < 5)
        {
            throw new EndOfStreamException("truncated gRPC frame header");
        }

        var payload = new byte[BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1))];
        await stream.ReadExactlyAsync(payload, token);
        return Encoding.UTF8.GetString(payload);
    }

    public static HttpRequestMessage Request(Uri listener, string authority, string method, HttpContent content)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(listener, method))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        request.Headers.Host = authority;
        request.Headers.TryAddWithoutValidation("te", "trailers");
        content.Headers.TryAddWithoutValidation("content-type", "application/grpc");
        return request;
    }

    public static HttpContent Unary(string message) => new ByteArrayContent(Frame(message));

    /// <summary>A request body the test writes message by message while the response streams (bidi).</summary>
    internal sealed class DuplexContent : HttpContent
    {
        private readonly Channel<string?> _messages = Channel.CreateUnbounded<string?>();

        public void Send(string message) => _messages.Writer.TryWrite(message);

        public void Complete() => _messages.Writer.TryComplete();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            // HttpClient sends HTTP/2 request headers with the first flushed body bytes: flush them now (as grpc-dotnet does).
            await stream.FlushAsync();
            await foreach (var message in _messages.Reader.ReadAllAsync())
            {
                await stream.WriteAsync(Frame(message!));
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
