using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Bowline.Api.AccessLogs;
using Bowline.Api.Xds;
using Bowline.Proxy.Config;

namespace Bowline.Proxy.Telemetry.AccessLog;

/// <summary>An access log format compiled once per config: TEXT (one format string) or JSON (field → format string).</summary>
internal sealed class AccessLogFormatter
{
    private readonly IReadOnlyList<FormatToken>? _text;
    private readonly (JsonEncodedText Name, IReadOnlyList<FormatToken> Tokens)[]? _json;

    private AccessLogFormatter(IReadOnlyList<FormatToken>? text, (JsonEncodedText, IReadOnlyList<FormatToken>)[]? json)
    {
        _text = text;
        _json = json;
    }

    /// <exception cref="ConfigException">The format is not valid (the proxy NACKs).</exception>
    public static AccessLogFormatter Compile(AccessLogConfig config)
    {
        if (config.Encoding == LogEncoding.Json)
        {
            var (fields, error) = config.Format is { Length: > 0 } f ? AccessLogFormat.ParseJson(f) : (AccessLogFormat.DefaultJson, null);
            if (error is not null)
            {
                throw new ConfigException($"access log format: {error}");
            }

            return new AccessLogFormatter(null, [.. fields.Select(kv => (JsonEncodedText.Encode(kv.Key), AccessLogFormat.Parse(kv.Value).Tokens))]);
        }

        var (tokens, textError) = AccessLogFormat.Parse(config.Format is { Length: > 0 } t ? t : AccessLogFormat.DefaultText);
        if (textError is not null)
        {
            throw new ConfigException($"access log format: {textError}");
        }

        // Envoy adds no line break of its own; Istio's formats end with one. A custom format without one still gets a
        // line per request, or the log would be one endless line.
        if (tokens.Count == 0 || tokens[^1].Text is not { } last || !last.EndsWith('\n'))
        {
            tokens = [.. tokens, new FormatToken("\n", null, null, null)];
        }

        return new AccessLogFormatter(tokens, null);
    }

    public string Format(in RequestRecord record)
    {
        if (_text is not null)
        {
            var sb = new StringBuilder(256);
            foreach (var token in _text)
            {
                sb.Append(token.Text ?? Render(record, token) ?? "-");
            }

            return sb.ToString();
        }

        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            foreach (var (name, tokens) in _json!)
            {
                WriteField(writer, name, tokens, record);
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n";
    }

    /// <summary>Envoy's typed JSON: a lone numeric operator is a number, a lone missing value is null.</summary>
    private static void WriteField(Utf8JsonWriter writer, JsonEncodedText name, IReadOnlyList<FormatToken> tokens, in RequestRecord record)
    {
        if (tokens.Count == 1 && tokens[0].Command is { } command)
        {
            var value = Render(record, tokens[0]);
            if (value is null)
            {
                writer.WriteNull(name);
            }
            else if (RequestRecord.IsNumeric(command) && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
            {
                writer.WriteNumber(name, n);
            }
            else
            {
                writer.WriteString(name, value);
            }

            return;
        }

        var sb = new StringBuilder();
        foreach (var token in tokens)
        {
            sb.Append(token.Text ?? Render(record, token) ?? "-");
        }

        writer.WriteString(name, sb.ToString());
    }

    private static string? Render(in RequestRecord record, FormatToken token)
    {
        var value = record.Value(token.Command!, token.Argument);
        return value is not null && token.MaxLength is { } max && value.Length > max ? value[..max] : value;
    }
}
