using System.Net.WebSockets;

namespace Bowline.ControlPlane.Push;

internal static class WebSocketMessages
{
    /// <summary>
    /// One whole text message (all its frames), or null when the peer closed. Oversized messages throw. The caller
    /// passes its stream's own receive buffer: a fresh 8 KB buffer and MemoryStream per message (every ACK of 2000
    /// proxies in every push round) was a large share of a round's allocations and GC. A message that arrives in one
    /// read (every ACK) is copied out once; longer ones are gathered in a MemoryStream as before.
    /// </summary>
    public static async Task<byte[]?> ReadAsync(WebSocket ws, byte[] buffer, int maxBytes, CancellationToken ct)
    {
        MemoryStream? ms = null;
        try
        {
            while (true)
            {
                var r = await ws.ReceiveAsync(buffer, ct);
                if (r.MessageType == WebSocketMessageType.Close)
                {
                    return null;
                }

                if (r.EndOfMessage && ms is null)
                {
                    return r.Count > maxBytes
                        ? throw new InvalidDataException($"message larger than {maxBytes} bytes")
                        : buffer.AsSpan(0, r.Count).ToArray();
                }

                ms ??= new MemoryStream();
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
        finally
        {
            ms?.Dispose();
        }
    }
}
