using System.Collections.Frozen;

namespace Bowline.Proxy.Forwarding;

/// <summary>Headers that describe one connection, not the message: never forwarded (RFC 9110 §7.6.1).</summary>
internal static class HopByHopHeaders
{
    private static readonly FrozenSet<string> Names = FrozenSet.Create(
        StringComparer.OrdinalIgnoreCase,
        "Connection",
        "Keep-Alive",
        "Proxy-Connection",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "TE",
        "Trailer",
        "Transfer-Encoding",
        "Upgrade",
        // Kestrel answered any 100-continue itself; forwarding the expectation would only stall the upstream send.
        "Expect",
        // HTTP/2 forbids it; HttpClient computes it for HTTP/1.1.
        "Host");

    public static bool Contains(string name) => Names.Contains(name);
}
