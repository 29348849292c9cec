using System.Globalization;
using System.Text.Json;

namespace Bowline.Api.AccessLogs;

/// <summary>One piece of an Envoy access log format: literal text, or a command operator ("%REQ(:METHOD)%").</summary>
/// <param name="Command">Null for literal text; else the operator's name ("REQ").</param>
/// <param name="Argument">The operator's parenthesised argument ("X-ENVOY-ORIGINAL-PATH?:PATH"), if any.</param>
/// <param name="MaxLength">Envoy's ":N" suffix: the value is cut to N characters.</param>
public sealed record FormatToken(string? Text, string? Command, string? Argument, int? MaxLength);

/// <summary>
/// Envoy's access log format strings (command operators), shared by validation (control plane, CLI) and the proxy, so
/// both agree on what is valid. Istio's defaults live here too: its TEXT format and its JSON field names.
/// </summary>
public static class AccessLogFormat
{
    /// <summary>Istio's default TEXT format (EnvoyTextLogFormat), one line per request.</summary>
    public const string DefaultText =
        "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" %RESPONSE_CODE% %RESPONSE_FLAGS% "
        + "%RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% \"%UPSTREAM_TRANSPORT_FAILURE_REASON%\" %BYTES_RECEIVED% "
        + "%BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" "
        + "\"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\" %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% "
        + "%DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n";

    /// <summary>Istio's default JSON fields (EnvoyJSONLogFormatIstio), in its order.</summary>
    public static readonly IReadOnlyList<KeyValuePair<string, string>> DefaultJson =
    [
        new("start_time", "%START_TIME%"),
        new("route_name", "%ROUTE_NAME%"),
        new("method", "%REQ(:METHOD)%"),
        new("path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"),
        new("protocol", "%PROTOCOL%"),
        new("response_code", "%RESPONSE_CODE%"),
        new("response_flags", "%RESPONSE_FLAGS%"),
        new("response_code_details", "%RESPONSE_CODE_DETAILS%"),
        new("connection_termination_details", "%CONNECTION_TERMINATION_DETAILS%"),
        new("bytes_received", "%BYTES_RECEIVED%"),
        new("bytes_sent", "%BYTES_SENT%"),
        new("duration", "%DURATION%"),
        new("upstream_service_time", "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%"),
        new("x_forwarded_for", "%REQ(X-FORWARDED-FOR)%"),
        new("user_agent", "%REQ(USER-AGENT)%"),
        new("request_id", "%REQ(X-REQUEST-ID)%"),
        new("authority", "%REQ(:AUTHORITY)%"),
        new("upstream_host", "%UPSTREAM_HOST%"),
        new("upstream_cluster", "%UPSTREAM_CLUSTER%"),
        new("upstream_local_address", "%UPSTREAM_LOCAL_ADDRESS%"),
        new("downstream_local_address", "%DOWNSTREAM_LOCAL_ADDRESS%"),
        new("downstream_remote_address", "%DOWNSTREAM_REMOTE_ADDRESS%"),
        new("requested_server_name", "%REQUESTED_SERVER_NAME%"),
        new("upstream_transport_failure_reason", "%UPSTREAM_TRANSPORT_FAILURE_REASON%"),
    ];

    /// <summary>The operators Bowline's proxy fills in; the rest of Envoy's are refused rather than logged wrong.</summary>
    public static readonly IReadOnlySet<string> Commands = new HashSet<string>(StringComparer.Ordinal)
    {
        "START_TIME", "REQ", "RESP", "PROTOCOL", "RESPONSE_CODE", "RESPONSE_FLAGS", "RESPONSE_CODE_DETAILS",
        "CONNECTION_TERMINATION_DETAILS", "UPSTREAM_TRANSPORT_FAILURE_REASON", "BYTES_RECEIVED", "BYTES_SENT",
        "DURATION", "RESPONSE_DURATION", "REQUEST_DURATION", "UPSTREAM_HOST", "UPSTREAM_CLUSTER", "UPSTREAM_LOCAL_ADDRESS",
        "DOWNSTREAM_LOCAL_ADDRESS", "DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT", "DOWNSTREAM_LOCAL_PORT",
        "DOWNSTREAM_REMOTE_ADDRESS", "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", "DOWNSTREAM_DIRECT_REMOTE_ADDRESS",
        "REQUESTED_SERVER_NAME", "ROUTE_NAME", "HOSTNAME", "TRACE_ID", "METHOD", "PATH", "UPSTREAM_REQUEST_ATTEMPT_COUNT",
    };

    private static readonly HashSet<string> NeedArgument = new(StringComparer.Ordinal) { "REQ", "RESP" };

    /// <summary>Splits a format into tokens; the error names the first bad operator.</summary>
    public static (IReadOnlyList<FormatToken> Tokens, string? Error) Parse(string format)
    {
        var tokens = new List<FormatToken>();
        var literal = new System.Text.StringBuilder();
        var i = 0;
        while (i < format.Length)
        {
            var c = format[i];
            if (c != '%')
            {
                literal.Append(c);
                i++;
                continue;
            }

            if (i + 1 < format.Length && format[i + 1] == '%')
            {
                // "%%" is a literal percent sign, as in Envoy.
                literal.Append('%');
                i += 2;
                continue;
            }

            var end = FindClose(format, i + 1);
            if (end < 0)
            {
                return (tokens, $"unterminated command operator at \"{Excerpt(format, i)}\"");
            }

            var (token, error) = Operator(format[(i + 1)..end]);
            if (error is not null)
            {
                return (tokens, error);
            }

            if (literal.Length > 0)
            {
                tokens.Add(new FormatToken(literal.ToString(), null, null, null));
                literal.Clear();
            }

            tokens.Add(token!);
            i = end + 1;
        }

        if (literal.Length > 0)
        {
            tokens.Add(new FormatToken(literal.ToString(), null, null, null));
        }

        return (tokens, null);
    }

    /// <summary>A JSON format: an object whose values are format strings (Envoy's json_format); nested objects are refused.</summary>
    public static (IReadOnlyList<KeyValuePair<string, string>> Fields, string? Error) ParseJson(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return ([], "a JSON accessLogFormat must be a JSON object of field names to format strings");
            }

            var fields = new List<KeyValuePair<string, string>>();
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String)
                {
                    return ([], $"field \"{p.Name}\": expected a string format, got {p.Value.ValueKind.ToString().ToLowerInvariant()}");
                }

                var (_, error) = Parse(p.Value.GetString()!);
                if (error is not null)
                {
                    return ([], $"field \"{p.Name}\": {error}");
                }

                fields.Add(new(p.Name, p.Value.GetString()!));
            }

            return (fields, null);
        }
        catch (JsonException e)
        {
            return ([], $"not valid JSON: {e.Message}");
        }
    }

    private static int FindClose(string format, int from)
    {
        var depth = 0;
        for (var j = from; j < format.Length; j++)
        {
            switch (format[j])
            {
                case '(':
                    depth++;
                    break;
                case ')':
                    depth--;
                    break;
                case '%' when depth == 0:
                    return j;
            }
        }

        return -1;
    }

    private static (FormatToken? Token, string? Error) Operator(string body)
    {
        string? argument = null;
        int? maxLength = null;
        var name = body;
        var open = body.IndexOf('(', StringComparison.Ordinal);
        if (open >= 0)
        {
            var close = body.LastIndexOf(')');
            if (close < open)
            {
                return (null, $"command operator %{body}% has an unclosed '('");
            }

            name = body[..open];
            argument = body[(open + 1)..close];
            var rest = body[(close + 1)..];
            if (rest.Length > 0)
            {
                if (rest[0] != ':' || !int.TryParse(rest.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0)
                {
                    return (null, $"command operator %{body}%: expected \":<length>\" after ')'");
                }

                maxLength = n;
            }
        }

        if (!Commands.Contains(name))
        {
            return (null, $"command operator %{name}% is not supported by Bowline");
        }

        if (NeedArgument.Contains(name) && string.IsNullOrEmpty(argument))
        {
            return (null, $"command operator %{name}% needs a header name, e.g. %{name}(USER-AGENT)%");
        }

        return (new FormatToken(null, name, argument, maxLength), null);
    }

    private static string Excerpt(string s, int from) => s.Length - from > 20 ? string.Concat(s.AsSpan(from, 20), "…") : s[from..];
}
