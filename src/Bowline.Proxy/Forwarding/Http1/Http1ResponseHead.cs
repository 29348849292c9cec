using System.Buffers.Text;
using System.Text;

namespace Bowline.Proxy.Forwarding.Http1;

/// <summary>How the response body is delimited (RFC 9112 §6.3).</summary>
internal enum BodyFraming
{
    None,
    ContentLength,
    Chunked,
    // No length and not chunked: the body runs until the upstream closes the connection.
    UntilClose,
}

/// <summary>
/// The parsed status line and header section of one upstream response. Lives on its connection and is reused by the
/// next response there: header name strings come from a table of common names, and a field line equal to the previous
/// response's line at the same position is taken from it instead of being parsed and decoded again.
/// </summary>
internal sealed class Http1ResponseHead
{
    /// <summary>RFC 9112 has no limit; SocketsHttpHandler's default (64 KiB) is what the proxy accepted before.</summary>
    public const int MaxHeadBytes = 64 * 1024;
    private const int MaxHeaders = 256;

    private readonly List<KeyValuePair<string, string>> _headers = [];
    private readonly List<HeaderRole> _roles = [];
    // Transfer-Encoding delimits the body: a Content-Length also sent is not the body's.
    private bool _lengthOverridden;

    // The previous response's head on this connection and what each of its field lines parsed to: a line equal byte
    // for byte to the line at the same position then is not parsed, validated or decoded again (an upstream repeats
    // most of its lines — Server, Content-Type, ETag — from one response to the next; Date changes once a second).
    private const int MaxRememberedHead = 8 * 1024;
    private byte[] _previousHead = [];
    private RememberedLine[] _previousLines = [];
    private int _previousLineCount;
    private RememberedLine[] _lines = [];
    // The table names seen in this head, one bit per KnownHeaderNames index (a table past 64 names would share bits:
    // a name then may look repeated when it is not, which only costs a lookup).
    private ulong _knownNames;

    public int StatusCode { get; private set; }
    public bool KeepAlive { get; private set; }
    public BodyFraming Framing { get; private set; }
    public long ContentLength { get; private set; }

    /// <summary>Every header field in arrival order (the hop-by-hop ones included: see <see cref="IsEndToEnd"/>).</summary>
    public List<KeyValuePair<string, string>> Headers => _headers;

    /// <summary>Whether header <paramref name="index"/> goes downstream (not hop-by-hop, not framing).</summary>
    public bool IsEndToEnd(int index) => _roles[index] switch
    {
        HeaderRole.Other => true,
        // Not passed on when Transfer-Encoding overrides it (Envoy drops it too).
        HeaderRole.ContentLength => !_lengthOverridden,
        _ => false,
    };

    /// <summary>Whether some field name occurs more than once in this head (Set-Cookie, say): its values are then joined.</summary>
    public bool RepeatsNames { get; private set; }

    private void NoteName(int known, string name)
    {
        if (known >= 0)
        {
            var bit = 1UL << known;
            RepeatsNames |= (_knownNames & bit) != 0;
            _knownNames |= bit;
            return;
        }

        // A name outside the table: compared with the earlier names (a table name never equals it; few of them).
        for (var i = 0; i < _headers.Count - 1 && !RepeatsNames; i++)
        {
            var earlier = _headers[i].Key;
            RepeatsNames = earlier.Length == name.Length && earlier.Equals(name, StringComparison.OrdinalIgnoreCase);
        }
    }

    public string? Get(string name)
    {
        foreach (var (key, value) in _headers)
        {
            if (key.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>
    /// Parses a complete head (status line through the empty line, <paramref name="head"/> excludes the final CRLF CRLF
    /// or LF LF). <paramref name="isHead"/>: the request was HEAD, so the response has no body whatever it says.
    /// </summary>
    /// <exception cref="Http1ProtocolException">Not a valid HTTP/1.x response head.</exception>
    public void Parse(ReadOnlySpan<byte> head, bool isHead)
    {
        _headers.Clear();
        _roles.Clear();
        _lengthOverridden = false;
        _knownNames = 0;
        RepeatsNames = false;
        var lineEnd = head.IndexOf((byte)'\n');
        var statusLine = TrimCr(lineEnd < 0 ? head : head[..lineEnd]);
        // "HTTP/1.1 200 OK", reason optional (RFC 9112 §4: "HTTP/1.1 200 " and "HTTP/1.1 200" both occur).
        if (statusLine.Length < 12 || !statusLine.StartsWith("HTTP/1."u8) || statusLine[8] != (byte)' '
            || (statusLine[7] != (byte)'1' && statusLine[7] != (byte)'0') || (statusLine.Length > 12 && statusLine[12] != (byte)' ')
            || !Utf8Parser.TryParse(statusLine.Slice(9, 3), out int status, out var used) || used != 3 || status < 100)
        {
            throw new Http1ProtocolException("invalid status line");
        }

        StatusCode = status;
        var http10 = statusLine[7] == (byte)'0';
        var connectionClose = http10;
        var chunked = false;
        var otherCoding = false;
        var listsFields = false;
        long contentLength = -1;
        var remember = head.Length <= MaxRememberedHead;
        var lineCount = 0;
        var rest = lineEnd < 0 ? [] : head[(lineEnd + 1)..];
        var index = 0;
        while (rest.Length > 0)
        {
            var end = rest.IndexOf((byte)'\n');
            var line = TrimCr(end < 0 ? rest : rest[..end]);
            var lineStart = head.Length - rest.Length;
            rest = end < 0 ? [] : rest[(end + 1)..];
            if (line.Length == 0)
            {
                continue;
            }

            if (++index > MaxHeaders)
            {
                throw new Http1ProtocolException("too many headers");
            }

            string name, value;
            HeaderRole role;
            int known;
            ReadOnlySpan<byte> rawValue;
            if (index <= _previousLineCount && _previousLines[index - 1] is var same
                && line.SequenceEqual(_previousHead.AsSpan(same.Start, same.Length)))
            {
                (name, value, role, known) = (same.Name, same.Value, same.Role, same.KnownIndex);
                rawValue = line.Slice(same.ValueStart, same.ValueLength);
                if (remember)
                {
                    RememberLine(ref lineCount, same with { Start = lineStart });
                }
            }
            else
            {
                var colon = line.IndexOf((byte)':');
                if (colon <= 0)
                {
                    throw new Http1ProtocolException("invalid header line");
                }

                var rawName = line[..colon];
                var knownName = KnownHeaderNames.Get(rawName, out role, out known);
                // A known name is a token; others are checked: no obsolete line folding, no whitespace before the colon
                // (RFC 9112 §5.1-5.2: a proxy must reject both).
                if (knownName is null)
                {
                    if (!IsToken(rawName))
                    {
                        throw new Http1ProtocolException("invalid header line");
                    }

                    knownName = Encoding.ASCII.GetString(rawName);
                    if (Forwarding.HopByHopHeaders.Contains(knownName))
                    {
                        role = HeaderRole.HopByHop;
                    }
                }

                name = knownName;

                var valueStart = colon + 1;
                while (valueStart < line.Length && line[valueStart] is (byte)' ' or (byte)'\t')
                {
                    valueStart++;
                }

                rawValue = TrimWhitespace(line[valueStart..]);
                if (rawValue.IndexOfAny((byte)'\r', (byte)'\0') >= 0)
                {
                    throw new Http1ProtocolException("invalid header value");
                }

                value = Encoding.Latin1.GetString(rawValue);
                if (remember)
                {
                    RememberLine(ref lineCount, new(lineStart, line.Length, valueStart, rawValue.Length, name, value, role, known));
                }
            }

            _headers.Add(new(name, value));
            _roles.Add(role);
            NoteName(known, name);
            switch (role)
            {
                case HeaderRole.ContentLength:
                    if (!Utf8Parser.TryParse(rawValue, out long length, out var n) || n != rawValue.Length || length < 0
                        || (contentLength >= 0 && contentLength != length))
                    {
                        throw new Http1ProtocolException("invalid Content-Length");
                    }

                    contentLength = length;
                    break;
                case HeaderRole.TransferEncoding:
                    // Only a final "chunked" delimits the body; any other coding runs to the close (RFC 9112 §6.3).
                    var last = LastToken(rawValue);
                    chunked = last.Length == 7 && Ascii.EqualsIgnoreCase(last, "chunked"u8);
                    otherCoding |= !chunked;
                    break;
                case HeaderRole.Connection when rawValue.Length == 10 && Ascii.EqualsIgnoreCase(rawValue, "keep-alive"u8):
                    // The common value, and it lists no other field.
                    if (http10)
                    {
                        connectionClose = false;
                    }

                    break;
                case HeaderRole.Connection:
                    if (HeaderTokens.Lists(value, "close"))
                    {
                        connectionClose = true;
                    }
                    else if (http10 && HeaderTokens.Lists(value, "keep-alive"))
                    {
                        connectionClose = false;
                    }

                    listsFields |= HeaderTokens.ListsOtherThan(value, "close", "keep-alive");
                    break;
            }
        }

        Remember(remember ? head : [], lineCount);
        if (listsFields)
        {
            DropConnectionListed();
        }

        ContentLength = contentLength;
        if (isHead || status is 204 or 304 || status < 200)
        {
            Framing = BodyFraming.None;
        }
        else if (chunked || otherCoding)
        {
            // Transfer-Encoding wins over Content-Length; both at once is a smuggling attempt unless chunked ends it.
            Framing = chunked && !otherCoding ? BodyFraming.Chunked : BodyFraming.UntilClose;
            ContentLength = -1;
            _lengthOverridden = true;
        }
        else if (contentLength >= 0)
        {
            Framing = contentLength == 0 ? BodyFraming.None : BodyFraming.ContentLength;
        }
        else
        {
            Framing = BodyFraming.UntilClose;
        }

        KeepAlive = !connectionClose && Framing != BodyFraming.UntilClose;
    }

    /// <summary>
    /// The fields the upstream's Connection names are hop-by-hop too (RFC 9110 §7.6.1): not passed on. Only a response
    /// whose Connection lists more than close / keep-alive gets here.
    /// </summary>
    private void DropConnectionListed()
    {
        for (var i = 0; i < _headers.Count; i++)
        {
            if (_roles[i] != HeaderRole.Other)
            {
                continue;
            }

            var name = _headers[i].Key;
            for (var j = 0; j < _headers.Count; j++)
            {
                if (_roles[j] == HeaderRole.Connection && HeaderTokens.Lists(_headers[j].Value, name))
                {
                    _roles[i] = HeaderRole.HopByHop;
                    break;
                }
            }
        }
    }

    /// <summary>Keeps this head's bytes and parsed lines for the next response (none when it was too large to keep).</summary>
    private void Remember(ReadOnlySpan<byte> head, int lineCount)
    {
        if (head.IsEmpty)
        {
            _previousLineCount = 0;
            return;
        }

        if (_previousHead.Length < head.Length)
        {
            _previousHead = new byte[Math.Max(head.Length, 512)];
        }

        head.CopyTo(_previousHead);
        (_previousLines, _lines) = (_lines, _previousLines);
        _previousLineCount = lineCount;
    }

    private void RememberLine(ref int count, RememberedLine line)
    {
        if (count == _lines.Length)
        {
            Array.Resize(ref _lines, Math.Max(16, count * 2));
        }

        _lines[count++] = line;
    }

    private static ReadOnlySpan<byte> TrimWhitespace(ReadOnlySpan<byte> value)
    {
        var start = 0;
        while (start < value.Length && value[start] is (byte)' ' or (byte)'\t')
        {
            start++;
        }

        var end = value.Length;
        while (end > start && value[end - 1] is (byte)' ' or (byte)'\t')
        {
            end--;
        }

        return value[start..end];
    }

    private static ReadOnlySpan<byte> TrimCr(ReadOnlySpan<byte> line) => line.Length > 0 && line[^1] == (byte)'\r' ? line[..^1] : line;

    private static ReadOnlySpan<byte> LastToken(ReadOnlySpan<byte> value)
    {
        var comma = value.LastIndexOf((byte)',');
        return TrimWhitespace(comma < 0 ? value : value[(comma + 1)..]);
    }

    // RFC 9110 §5.6.2 tchar.
    private static bool IsToken(ReadOnlySpan<byte> name) => name.IndexOfAnyExcept(TokenChars) < 0;

    private static readonly System.Buffers.SearchValues<byte> TokenChars =
        System.Buffers.SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);
}

/// <summary>The upstream's bytes are not HTTP/1.1 (or break a limit): the exchange fails as an invalid response.</summary>
internal sealed class Http1ProtocolException(string message) : Exception(message);

/// <summary>One field line of the previous response: where its bytes are, and what it parsed to.</summary>
internal readonly record struct RememberedLine(int Start, int Length, int ValueStart, int ValueLength, string Name, string Value, HeaderRole Role, int KnownIndex);
