using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using Bowline.ControlPlane.Generation;

namespace Bowline.ControlPlane.Push;

/// <summary>
/// Writes a <c>DiscoveryResponse</c> straight from a config's pre-serialized parts, as one WebSocket message sent in
/// frames of at most <see cref="FrameBytes"/>: the shared parts are serialized once for all proxies, and no proxy's
/// whole response is ever held in memory (2000 × 600 KB would be the control plane's peak RSS).
/// </summary>
internal static class ResponseWriter
{
    public const int FrameBytes = 64 * 1024;

    public static async Task<long> SendFullAsync(WebSocket socket, string version, string nonce, ComposedConfig config, CancellationToken ct)
    {
        var buffer = new ArrayBufferWriter<byte>(FrameBytes + 1024);
        long sent = 0;
        using var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true });
        w.WriteStartObject();
        w.WriteString("version"u8, version);
        w.WriteString("nonce"u8, nonce);
        w.WritePropertyName("config"u8);
        w.WriteStartObject();
        sent += await WritePartsAsync(socket, w, buffer, "listeners", config.Listeners, ct);
        sent += await WritePartsAsync(socket, w, buffer, "routeTables", config.RouteTables, ct);
        sent += await WritePartsAsync(socket, w, buffer, "clusters", config.Clusters, ct);
        w.WriteEndObject();
        w.WriteEndObject();
        sent += await FlushAsync(socket, w, buffer, endOfMessage: true, ct);
        return sent;
    }

    private static async Task<long> WritePartsAsync(WebSocket socket, Utf8JsonWriter w, ArrayBufferWriter<byte> buffer,
        string name, IReadOnlyList<Part> parts, CancellationToken ct)
    {
        long sent = 0;
        w.WritePropertyName(name);
        w.WriteStartArray();
        foreach (var p in parts)
        {
            w.WriteRawValue(p.Json, skipInputValidation: true);
            if (w.BytesPending + buffer.WrittenCount >= FrameBytes)
            {
                sent += await FlushAsync(socket, w, buffer, endOfMessage: false, ct);
            }
        }

        w.WriteEndArray();
        return sent;
    }

    private static async Task<int> FlushAsync(WebSocket socket, Utf8JsonWriter w, ArrayBufferWriter<byte> buffer, bool endOfMessage, CancellationToken ct)
    {
        w.Flush();
        var n = buffer.WrittenCount;
        await socket.SendAsync(buffer.WrittenMemory, WebSocketMessageType.Text, endOfMessage, ct);
        buffer.ResetWrittenCount();
        return n;
    }
}
