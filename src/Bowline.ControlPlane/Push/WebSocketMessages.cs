using System.Net.WebSockets;

namespace Bowline.ControlPlane.Push;

internal static class WebSocketMessages
{
    /// <summary>One whole text message (all its frames), or null when the peer closed. Oversized messages throw.</summary>
    public static async Task<byte[]?> ReadAsync(WebSocket ws, int maxBytes, CancellationToken ct)
    {
        var buffer = new byte[8192];
        using var ms = new MemoryStream();
        while (true)
        {
            var r = await ws.ReceiveAsync(buffer, ct);
            if (r.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            ms.Write(buffer, 0, r.Count);
            if (ms.Length > maxBytes)
            {
                throw new InvalidDataException($"message larger than {maxBytes} bytes");
            }

            if (r.EndOfMessage)
            {
                return ms.ToArray();
            }
        }
    }
}
