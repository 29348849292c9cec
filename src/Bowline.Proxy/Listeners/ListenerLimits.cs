using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Bowline.Proxy.Listeners;

/// <summary>
/// What every listener tolerates from a client, after Envoy's defaults where Envoy has one: a malformed or slow client
/// gets a 4xx or a closed connection, and its connection alone pays for it.
/// </summary>
internal sealed record ListenerLimits
{
    public static readonly ListenerLimits Default = new();

    /// <summary>Envoy's max_request_headers_kb default (60 KiB); more is a 431.</summary>
    public int MaxRequestHeadersTotalSize { get; init; } = 60 * 1024;

    /// <summary>Envoy's max_headers_count default; more is a 431.</summary>
    public int MaxRequestHeaderCount { get; init; } = 100;

    /// <summary>
    /// Envoy counts the request line into the same 60 KiB; Kestrel limits it separately (8 KiB by default), so it gets
    /// the same 60 KiB here: an URI Envoy would carry is carried. Longer is a 414.
    /// </summary>
    public int MaxRequestLineSize { get; init; } = 60 * 1024;

    /// <summary>
    /// Time to send the whole request head (slowloris). Envoy has no default (request_headers_timeout unset), Kestrel
    /// 30 s; 10 s is ample for any real client on a mesh (heads take milliseconds) and frees a stalled connection's
    /// resources three times sooner. The same bound covers a connection that sends nothing at all.
    /// </summary>
    public TimeSpan RequestHeadersTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Kestrel's minimum body rate (240 B/s after a 5 s grace) for HTTP/1 bodies. Streams that may go quiet by design
    /// (gRPC calls, upgraded connections) and HTTP/2 requests, whose rate Kestrel enforces per multiplexed connection,
    /// are exempted per request (see ProxyPipeline).
    /// </summary>
    public MinDataRate? MinRequestBodyDataRate { get; init; } = new(240, TimeSpan.FromSeconds(5));

    public void ApplyTo(KestrelServerLimits limits)
    {
        limits.MaxRequestHeadersTotalSize = MaxRequestHeadersTotalSize;
        limits.MaxRequestHeaderCount = MaxRequestHeaderCount;
        limits.MaxRequestLineSize = MaxRequestLineSize;
        limits.RequestHeadersTimeout = RequestHeadersTimeout;
        limits.MinRequestBodyDataRate = MinRequestBodyDataRate;
        // HTTP/2 carries the same head limit as a HPACK-decoded header list (Kestrel's MaxRequestHeaderFieldSize is 16 KiB
        // per field by default; a field may use the whole budget as in Envoy).
        limits.Http2.MaxRequestHeaderFieldSize = MaxRequestHeadersTotalSize;
    }
}
