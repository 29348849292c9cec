using System.Diagnostics;
using System.Globalization;
using Bowline.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Bowline.Proxy.Telemetry.AccessLog;

/// <summary>
/// Envoy's command operators read off one finished request. Values are null when Envoy would print "-" (unknown or
/// not applicable); <see cref="IsNumeric"/> says which a JSON log writes as numbers.
/// </summary>
internal readonly struct RequestRecord(HttpContext context, ProxyRequestFeature feature, long endTimestamp)
{
    public HttpContext Context => context;
    public ProxyRequestFeature Feature => feature;

    public static bool IsNumeric(string command) => command is "RESPONSE_CODE" or "BYTES_RECEIVED" or "BYTES_SENT" or "DURATION"
        or "RESPONSE_DURATION" or "REQUEST_DURATION" or "DOWNSTREAM_LOCAL_PORT" or "UPSTREAM_REQUEST_ATTEMPT_COUNT";

    public string? Value(string command, string? argument) => command switch
    {
        "START_TIME" => StartTime(feature.StartTime, argument),
        "REQ" => Header(argument!, request: true),
        "RESP" => Header(argument!, request: false),
        "METHOD" => context.Request.Method,
        "PATH" => OriginalPath(),
        "PROTOCOL" => context.Request.Protocol,
        "RESPONSE_CODE" => Number(ResponseCode),
        "RESPONSE_FLAGS" => feature.Flags.ToShortString(),
        "RESPONSE_CODE_DETAILS" => ResponseCodeDetails(),
        "BYTES_RECEIVED" => Number(BytesReceived),
        "BYTES_SENT" => Number(BytesSent),
        "DURATION" => Number((long)Duration.TotalMilliseconds),
        "REQUEST_DURATION" => null,
        "RESPONSE_DURATION" => feature.UpstreamServiceTime is { } t ? Number((long)t.TotalMilliseconds) : null,
        "UPSTREAM_HOST" => UpstreamHost(feature.UpstreamEndpoint),
        "UPSTREAM_CLUSTER" => feature.ClusterName,
        "DOWNSTREAM_LOCAL_ADDRESS" => Address(context.Connection.LocalIpAddress, context.Connection.LocalPort),
        "DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT" => context.Connection.LocalIpAddress?.ToString(),
        "DOWNSTREAM_LOCAL_PORT" => Number(context.Connection.LocalPort),
        "DOWNSTREAM_REMOTE_ADDRESS" or "DOWNSTREAM_DIRECT_REMOTE_ADDRESS" => Address(context.Connection.RemoteIpAddress, context.Connection.RemotePort),
        "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT" => context.Connection.RemoteIpAddress?.ToString(),
        "ROUTE_NAME" => feature.RouteName,
        "HOSTNAME" => Environment.MachineName,
        "TRACE_ID" => feature.Span?.TraceId,
        // Plaintext listeners, no SNI, no transport failures to report, no upstream local address from the client.
        _ => null,
    };

    /// <summary>Envoy logs 0 when no response was sent (the client went away first).</summary>
    public int ResponseCode => context.Response.HasStarted || (feature.Flags & ResponseFlags.DownstreamConnectionTermination) == 0
        ? context.Response.StatusCode
        : 0;

    public long BytesReceived => context.Request.ContentLength ?? 0;

    public long BytesSent => feature.BytesSent ?? context.Response.ContentLength ?? 0;

    public TimeSpan Duration => Stopwatch.GetElapsedTime(feature.StartTimestamp, endTimestamp);

    /// <summary>Envoy's %RESPONSE_CODE_DETAILS%: who made the answer, and why when it was the proxy.</summary>
    public string? ResponseCodeDetails()
    {
        var f = feature.Flags;
        return (f & ResponseFlags.FaultInjected) != 0 ? "fault_filter_abort"
            : (f & ResponseFlags.DownstreamProtocolError) != 0 ? "http1.codec_error"
            : (f & ResponseFlags.NoRoute) != 0 ? "route_not_found"
            : (f & ResponseFlags.NoHealthyUpstream) != 0 ? "no_healthy_upstream"
            : (f & ResponseFlags.UpstreamOverflow) != 0 ? "upstream_reset_before_response_started{overflow}"
            : (f & ResponseFlags.UpstreamConnectionFailure) != 0 ? "upstream_reset_before_response_started{connection_failure}"
            : (f & ResponseFlags.UpstreamRequestTimeout) != 0 ? "response_timeout"
            : (f & ResponseFlags.UpstreamConnectionTermination) != 0 ? "upstream_reset_before_response_started{connection_termination}"
            : (f & ResponseFlags.DownstreamConnectionTermination) != 0 ? "downstream_remote_disconnect"
            : feature.UpstreamServiceTime is not null ? "via_upstream"
            : null;
    }

    public string OriginalPath() => OriginForm.Get(context);

    private string? Header(string argument, bool request)
    {
        // "X-ENVOY-ORIGINAL-PATH?:PATH": the first header, else the alternative.
        var question = argument.IndexOf('?', StringComparison.Ordinal);
        var first = question < 0 ? argument : argument[..question];
        var value = HeaderValue(first, request);
        if (value is null && question >= 0)
        {
            value = HeaderValue(argument[(question + 1)..], request);
        }

        return value;
    }

    private string? HeaderValue(string name, bool request)
    {
        if (request && name.StartsWith(':'))
        {
            return name.ToUpperInvariant() switch
            {
                ":METHOD" => context.Request.Method,
                ":PATH" => OriginalPath(),
                ":AUTHORITY" => context.Request.Host.HasValue ? context.Request.Host.Value : null,
                ":SCHEME" => "http",
                _ => null,
            };
        }

        var headers = request ? context.Request.Headers : context.Response.Headers;
        return headers.TryGetValue(name, out var values) && values.Count > 0 ? values.ToString() : null;
    }

    private static string? UpstreamHost(string? uriPrefix)
    {
        if (uriPrefix is null)
        {
            return null;
        }

        var scheme = uriPrefix.IndexOf("://", StringComparison.Ordinal);
        return scheme < 0 ? uriPrefix : uriPrefix[(scheme + 3)..].TrimEnd('/');
    }

    private static string? Address(System.Net.IPAddress? ip, int port) =>
        ip is null ? null : ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? string.Create(CultureInfo.InvariantCulture, $"[{ip}]:{port}")
            : string.Create(CultureInfo.InvariantCulture, $"{ip}:{port}");

    private static string Number(long n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>Envoy's default: ISO 8601 UTC with milliseconds; an argument is an strftime format (common specifiers).</summary>
    internal static string StartTime(DateTime utc, string? format)
    {
        if (string.IsNullOrEmpty(format))
        {
            return utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        }

        var sb = new System.Text.StringBuilder();
        for (var i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 == format.Length)
            {
                sb.Append(format[i]);
                continue;
            }

            var c = format[++i];
            if (char.IsDigit(c) && i + 1 < format.Length && format[i + 1] == 'f')
            {
                // %3f, %6f, %9f: fractional seconds to that many digits.
                var digits = c - '0';
                i++;
                var ticks = (utc.Ticks % TimeSpan.TicksPerSecond).ToString("D7", CultureInfo.InvariantCulture) + "00";
                sb.Append(ticks.AsSpan(0, Math.Min(digits, 9)));
                continue;
            }

            sb.Append(c switch
            {
                'Y' => utc.ToString("yyyy", CultureInfo.InvariantCulture),
                'm' => utc.ToString("MM", CultureInfo.InvariantCulture),
                'd' => utc.ToString("dd", CultureInfo.InvariantCulture),
                'H' => utc.ToString("HH", CultureInfo.InvariantCulture),
                'M' => utc.ToString("mm", CultureInfo.InvariantCulture),
                'S' => utc.ToString("ss", CultureInfo.InvariantCulture),
                'z' => "+0000",
                'Z' => "UTC",
                's' => ((long)(utc - DateTime.UnixEpoch).TotalSeconds).ToString(CultureInfo.InvariantCulture),
                'F' => utc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                'T' => utc.ToString("HH:mm:ss", CultureInfo.InvariantCulture),
                '%' => "%",
                _ => string.Concat("%", c.ToString()),
            });
        }

        return sb.ToString();
    }
}
