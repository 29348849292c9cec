using System.Text;

namespace Bowline.Proxy.Forwarding.Http1;

/// <summary>What the response parser must act on in a header field (the rest is copied as it is).</summary>
internal enum HeaderRole : byte
{
    Other,
    ContentLength,
    TransferEncoding,
    Connection,
    // Any other hop-by-hop header (RFC 9110 §7.6.1): parsed, never copied downstream.
    HopByHop,
}

/// <summary>
/// Response header names common enough to keep as constants: parsing one returns the same string every time instead
/// of allocating it per response (and lets Kestrel's known-header switch match it), and says what the parser does
/// with it without comparing strings again.
/// </summary>
internal static class KnownHeaderNames
{
    private static readonly (string Name, HeaderRole Role)[] Names =
    [
        ("Accept-Ranges", HeaderRole.Other), ("Access-Control-Allow-Origin", HeaderRole.Other), ("Age", HeaderRole.Other),
        ("Cache-Control", HeaderRole.Other), ("Connection", HeaderRole.Connection), ("Content-Encoding", HeaderRole.Other),
        ("Content-Language", HeaderRole.Other), ("Content-Length", HeaderRole.ContentLength), ("Content-Location", HeaderRole.Other),
        ("Content-Range", HeaderRole.Other), ("Content-Type", HeaderRole.Other), ("Date", HeaderRole.Other), ("ETag", HeaderRole.Other),
        ("Expires", HeaderRole.Other), ("Keep-Alive", HeaderRole.HopByHop), ("Last-Modified", HeaderRole.Other), ("Location", HeaderRole.Other),
        ("Pragma", HeaderRole.Other), ("Proxy-Connection", HeaderRole.HopByHop), ("Proxy-Authenticate", HeaderRole.HopByHop),
        ("Retry-After", HeaderRole.Other), ("Server", HeaderRole.Other), ("Set-Cookie", HeaderRole.Other),
        ("Strict-Transport-Security", HeaderRole.Other), ("Trailer", HeaderRole.HopByHop), ("Transfer-Encoding", HeaderRole.TransferEncoding),
        ("Upgrade", HeaderRole.HopByHop), ("Vary", HeaderRole.Other), ("Via", HeaderRole.Other), ("WWW-Authenticate", HeaderRole.Other),
        ("X-Content-Type-Options", HeaderRole.Other), ("X-Frame-Options", HeaderRole.Other),
        ("x-envoy-upstream-service-time", HeaderRole.Other), ("x-envoy-peer-metadata", HeaderRole.Other),
        ("x-envoy-peer-metadata-id", HeaderRole.Other), ("x-envoy-overloaded", HeaderRole.Other), ("x-envoy-ratelimited", HeaderRole.Other),
        ("x-envoy-decorator-operation", HeaderRole.Other), ("x-request-id", HeaderRole.Other), ("grpc-status", HeaderRole.Other),
        ("grpc-message", HeaderRole.Other),
    ];

    // Names grouped by length: a lookup compares only names of the right length.
    private static readonly (byte[] Bytes, string Name, HeaderRole Role, int Index)[][] ByLength = Build();

    /// <summary>The constant name, its role and its number in the table; null (index -1) when the name is not a common one.</summary>
    public static string? Get(ReadOnlySpan<byte> name, out HeaderRole role, out int index)
    {
        if (name.Length < ByLength.Length)
        {
            foreach (var (bytes, known, knownRole, knownIndex) in ByLength[name.Length])
            {
                // Most names differ in their first letter: no full comparison for them.
                if ((name[0] | 0x20) == (bytes[0] | 0x20) && Ascii.EqualsIgnoreCase(name, bytes))
                {
                    role = knownRole;
                    index = knownIndex;
                    return known;
                }
            }
        }

        role = HeaderRole.Other;
        index = -1;
        return null;
    }

    public static string? Get(ReadOnlySpan<byte> name) => Get(name, out _, out _);

    private static (byte[], string, HeaderRole, int)[][] Build()
    {
        var table = new (byte[], string, HeaderRole, int)[Names.Max(n => n.Name.Length) + 1][];
        for (var length = 1; length < table.Length; length++)
        {
            table[length] = [.. Names.Select((n, i) => (Encoding.ASCII.GetBytes(n.Name), n.Name, n.Role, i)).Where(n => n.Name.Length == length)];
        }

        table[0] = [];
        return table;
    }
}
