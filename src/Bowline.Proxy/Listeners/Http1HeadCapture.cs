using System.Text;
using Bowline.Proxy.Forwarding;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Bowline.Proxy.Listeners;

/// <summary>
/// Recovers what Kestrel changes in an HTTP/1.x request head before the proxy sees it, through the one hook that sees
/// field values as they are parsed: Kestrel's header-value encoding selector.
/// <list type="bullet">
/// <item>Connection: when the only option Kestrel knows in it is keep-alive, close or upgrade, Kestrel replaces the
/// whole value by that option, so "Connection: x-foo, keep-alive" arrives as "keep-alive" and x-foo, hop-by-hop by
/// RFC 9110 §7.6.1, would be forwarded.</item>
/// <item>X-Content-Length: Kestrel adds it, holding the Content-Length it removed, to a request that had
/// Transfer-Encoding as well; one the client sent itself is the only one decoded through the selector.</item>
/// </list>
/// The selector leaves every other field to Kestrel's own decoding; these two it decodes the same way and notes in the
/// connection's capture, which the pipeline reads when the request reaches it.
/// </summary>
internal static class Http1HeadCapture
{
    private static readonly AsyncLocal<Capture?> Current = new();
    private static readonly Encoding ConnectionEncoding = new NotingEncoding(connection: true);
    private static readonly Encoding XContentLengthEncoding = new NotingEncoding(connection: false);

    private const string XContentLength = "X-Content-Length";

    /// <summary>For <see cref="Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions.RequestHeaderEncodingSelector"/>.</summary>
    public static Encoding? SelectEncoding(string name) => name.Length switch
    {
        10 when name.Equals("Connection", StringComparison.OrdinalIgnoreCase) => ConnectionEncoding,
        16 when name.Equals(XContentLength, StringComparison.OrdinalIgnoreCase) => XContentLengthEncoding,
        _ => null,
    };

    /// <summary>
    /// Connection middleware giving each connection its capture: Kestrel parses an HTTP/1.x head and runs the request
    /// within this call's async flow, so the encoding and the pipeline both reach it.
    /// </summary>
    public static ConnectionDelegate Scope(ConnectionDelegate next) => async connection =>
    {
        Current.Value = new Capture();
        await next(connection);
    };

    /// <summary>
    /// Puts this request's head back as the client sent it: the full Connection list, and no X-Content-Length that
    /// Kestrel made. Asked only for a request with a Connection or Transfer-Encoding field, where Kestrel may have
    /// changed something.
    /// </summary>
    public static void Restore(IHeaderDictionary headers)
    {
        if (Current.Value is not { } capture)
        {
            return;
        }

        if (capture.Connection is { } listed)
        {
            capture.Connection = null;
            // Kestrel's remaining value joined by the lists it replaced: a superset of what was sent, enough to tell
            // which fields are hop-by-hop.
            headers.Connection = StringValues.Concat(headers.Connection, listed);
        }

        if (headers.TransferEncoding.Count > 0 && headers.ContentLength is null && !capture.XContentLength)
        {
            headers.Remove(XContentLength);
        }

        // A client-sent X-Content-Length noted for an earlier request that did not get here (no Transfer-Encoding) only
        // ever keeps a field; it never drops one the client sent.
        capture.XContentLength = false;
    }

    private sealed class Capture
    {
        /// <summary>Connection values that list more than Kestrel's own options, comma-joined; null when none.</summary>
        public string? Connection;

        /// <summary>The client sent an X-Content-Length field.</summary>
        public bool XContentLength;
    }

    /// <summary>
    /// Decodes as Kestrel's default does (UTF-8, no NUL: either fails the request as a bad one) and notes the value.
    /// Kestrel decodes through <see cref="Encoding.GetString(ReadOnlySpan{byte})"/>, which ends in the array overloads
    /// here; the copies that costs are paid only by requests with these fields.
    /// </summary>
    private sealed class NotingEncoding(bool connection) : Encoding
    {
        private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

        public override int GetByteCount(char[] chars, int index, int count) => Strict.GetByteCount(chars, index, count);

        public override int GetBytes(char[] chars, int charIndex, int charCount, byte[] bytes, int byteIndex) =>
            Strict.GetBytes(chars, charIndex, charCount, bytes, byteIndex);

        public override int GetCharCount(byte[] bytes, int index, int count)
        {
            if (bytes.AsSpan(index, count).Contains((byte)0))
            {
                throw new DecoderFallbackException("NUL in a header value");
            }

            return Strict.GetCharCount(bytes, index, count);
        }

        public override int GetChars(byte[] bytes, int byteIndex, int byteCount, char[] chars, int charIndex)
        {
            var count = Strict.GetChars(bytes, byteIndex, byteCount, chars, charIndex);
            if (Current.Value is { } capture)
            {
                Note(capture, chars.AsSpan(charIndex, count));
            }

            return count;
        }

        public override int GetMaxByteCount(int charCount) => Strict.GetMaxByteCount(charCount);

        public override int GetMaxCharCount(int byteCount) => Strict.GetMaxCharCount(byteCount);

        private void Note(Capture capture, ReadOnlySpan<char> value)
        {
            if (!connection)
            {
                capture.XContentLength = true;
            }
            else if (HeaderTokens.ListsOtherThan(value, "keep-alive", "close", "upgrade"))
            {
                capture.Connection = capture.Connection is null ? value.ToString() : string.Concat(capture.Connection, ", ", value);
            }
        }
    }
}
