using Bowline.Proxy.Forwarding;
using Microsoft.Extensions.Primitives;

namespace Bowline.Proxy.Pipeline;

/// <summary>
/// The request transfer codings the proxy forwards: chunked alone. Kestrel accepts any list that ends in chunked and
/// decodes only the chunked framing, so "gzip, chunked" would reach the upstream as a gzip body nobody announced. Envoy
/// answers a transfer coding it does not implement with 501 (RFC 9112 §6.1); so does the proxy.
/// </summary>
internal static class TransferCodings
{
    public static bool OnlyChunked(StringValues transferEncoding)
    {
        foreach (var value in transferEncoding)
        {
            if (HeaderTokens.ListsOtherThan(value, "chunked"))
            {
                return false;
            }
        }

        return true;
    }
}
