using System.Text;

namespace Bowline.Proxy.Forwarding.Http1;

/// <summary>
/// Response header names common enough to keep as constants: parsing one returns the same string every time instead
/// of allocating it per response (and lets Kestrel's known-header switch match it).
/// </summary>
internal static class KnownHeaderNames
{
    private static readonly string[] Names =
    [
        "Accept-Ranges", "Access-Control-Allow-Origin", "Age", "Cache-Control", "Connection", "Content-Encoding",
        "Content-Language", "Content-Length", "Content-Location", "Content-Range", "Content-Type", "Date", "ETag",
        "Expires", "Keep-Alive", "Last-Modified", "Location", "Pragma", "Retry-After", "Server", "Set-Cookie",
        "Strict-Transport-Security", "Trailer", "Transfer-Encoding", "Vary", "Via", "WWW-Authenticate",
        "X-Content-Type-Options", "X-Frame-Options", "x-envoy-upstream-service-time", "x-envoy-peer-metadata",
        "x-envoy-peer-metadata-id", "x-envoy-overloaded", "x-envoy-ratelimited", "x-envoy-decorator-operation",
        "x-request-id", "grpc-status", "grpc-message",
    ];

    // Names grouped by length: a lookup compares only names of the right length.
    private static readonly (byte[] Bytes, string Name)[][] ByLength = Build();

    public static string? Get(ReadOnlySpan<byte> name)
    {
        if (name.Length >= ByLength.Length)
        {
            return null;
        }

        foreach (var (bytes, known) in ByLength[name.Length])
        {
            if (Ascii.EqualsIgnoreCase(name, bytes))
            {
                return known;
            }
        }

        return null;
    }

    private static (byte[], string)[][] Build()
    {
        var table = new (byte[], string)[Names.Max(n => n.Length) + 1][];
        for (var length = 0; length < table.Length; length++)
        {
            table[length] = [.. Names.Where(n => n.Length == length).Select(n => (Encoding.ASCII.GetBytes(n), n))];
        }

        return table;
    }
}
