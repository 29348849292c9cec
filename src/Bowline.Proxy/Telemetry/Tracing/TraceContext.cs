using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Telemetry.Tracing;

/// <summary>A caller's trace context as the request carried it: W3C traceparent, else B3 multi, else B3 single.</summary>
/// <param name="TraceId">32 lower-case hex digits (a 64-bit B3 id is left-padded with zeros); null: none came.</param>
/// <param name="ParentSpanId">16 hex digits: the caller's span, this proxy's span's parent.</param>
/// <param name="Sampled">The caller's decision, when it made one (traceparent flags, x-b3-sampled, x-b3-flags, b3).</param>
internal readonly record struct TraceContext(string? TraceId, string? ParentSpanId, bool? Sampled)
{
    public const string TraceParent = "traceparent";
    public const string B3TraceId = "x-b3-traceid";
    public const string B3SpanId = "x-b3-spanid";
    public const string B3ParentSpanId = "x-b3-parentspanid";
    public const string B3Sampled = "x-b3-sampled";
    public const string B3Flags = "x-b3-flags";
    public const string B3Single = "b3";

    public static TraceContext Extract(IHeaderDictionary headers)
    {
        if (headers.TryGetValue(TraceParent, out var tp) && tp.Count == 1 && ParseTraceParent(tp[0]!) is { } w3c)
        {
            return w3c;
        }

        var sampled = B3Decision(headers);
        if (headers.TryGetValue(B3TraceId, out var b3Trace) && headers.TryGetValue(B3SpanId, out var b3Span)
            && NormalTraceId(b3Trace.ToString()) is { } traceId && IsHex(b3Span.ToString(), 16) && !IsZero(b3Span.ToString()))
        {
            return new TraceContext(traceId, b3Span.ToString().ToLowerInvariant(), sampled);
        }

        if (headers.TryGetValue(B3Single, out var single) && single.Count == 1 && ParseB3Single(single[0]!) is { } b3)
        {
            return b3;
        }

        return new TraceContext(null, null, sampled);
    }

    /// <summary>"00-{trace id}-{parent id}-{flags}"; any other version is read the same way, as W3C asks.</summary>
    internal static TraceContext? ParseTraceParent(string value)
    {
        var parts = value.Trim().Split('-');
        if (parts.Length < 4 || !IsHex(parts[0], 2) || parts[0] == "ff" || (parts[0] == "00" && parts.Length != 4)
            || !IsHex(parts[1], 32) || IsZero(parts[1]) || !IsHex(parts[2], 16) || IsZero(parts[2]) || !IsHex(parts[3], 2))
        {
            return null;
        }

        var flags = Convert.ToByte(parts[3], 16);
        return new TraceContext(parts[1].ToLowerInvariant(), parts[2].ToLowerInvariant(), (flags & 1) != 0);
    }

    /// <summary>"{trace}-{span}[-{1|0|d}[-{parent}]]", or a lone decision "0", "1" or "d".</summary>
    internal static TraceContext? ParseB3Single(string value)
    {
        var parts = value.Trim().Split('-');
        if (parts.Length == 1)
        {
            return Decision(parts[0]) is { } lone ? new TraceContext(null, null, lone) : null;
        }

        if (NormalTraceId(parts[0]) is not { } traceId || !IsHex(parts[1], 16) || IsZero(parts[1]))
        {
            return null;
        }

        bool? sampled = parts.Length >= 3 ? Decision(parts[2]) : null;
        return new TraceContext(traceId, parts[1].ToLowerInvariant(), sampled);
    }

    private static bool? B3Decision(IHeaderDictionary headers)
    {
        // x-b3-flags: 1 is "debug", which implies sampled.
        if (headers.TryGetValue(B3Flags, out var flags) && flags.ToString() == "1")
        {
            return true;
        }

        return headers.TryGetValue(B3Sampled, out var sampled) ? Decision(sampled.ToString()) : null;
    }

    private static bool? Decision(string value) => value switch
    {
        "1" or "true" or "d" => true,
        "0" or "false" => false,
        _ => null,
    };

    private static string? NormalTraceId(string value) =>
        (IsHex(value, 32) || IsHex(value, 16)) && !IsZero(value) ? value.ToLowerInvariant().PadLeft(32, '0') : null;

    internal static bool IsHex(string value, int length)
    {
        if (value.Length != length)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsZero(string hex) => hex.AsSpan().IndexOfAnyExcept('0') < 0;
}
