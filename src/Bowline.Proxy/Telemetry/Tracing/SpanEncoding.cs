using System.Buffers;
using System.Text.Json;

namespace Bowline.Proxy.Telemetry.Tracing;

/// <summary>
/// Request bodies for the two collector protocols, written by hand (no reflection, so the AOT proxy needs nothing
/// more): OTLP/HTTP JSON (ExportTraceServiceRequest: ids as hex, times as decimal strings of nanoseconds, kind as its
/// number) and Zipkin v2 JSON (a list of spans, times in microseconds).
/// </summary>
internal static class SpanEncoding
{
    private const int OtlpKindServer = 2;
    private const int OtlpKindClient = 3;
    private const int OtlpStatusError = 2;

    public static byte[] Otlp(IReadOnlyList<SpanData> spans)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("resourceSpans");
            // One resource per service name: a batch holds this proxy's spans, so normally one.
            foreach (var group in spans.GroupBy(s => s.ServiceName, StringComparer.Ordinal))
            {
                w.WriteStartObject();
                w.WriteStartObject("resource");
                w.WriteStartArray("attributes");
                Attribute(w, "service.name", group.Key);
                w.WriteEndArray();
                w.WriteEndObject();
                w.WriteStartArray("scopeSpans");
                w.WriteStartObject();
                w.WriteStartObject("scope");
                w.WriteString("name", "bowline-proxy");
                w.WriteEndObject();
                w.WriteStartArray("spans");
                foreach (var span in group)
                {
                    w.WriteStartObject();
                    w.WriteString("traceId", span.TraceId);
                    w.WriteString("spanId", span.SpanId);
                    if (span.ParentSpanId is not null)
                    {
                        w.WriteString("parentSpanId", span.ParentSpanId);
                    }

                    w.WriteString("name", span.Name);
                    w.WriteNumber("kind", span.Kind == SpanKind.Server ? OtlpKindServer : OtlpKindClient);
                    w.WriteString("startTimeUnixNano", (span.StartUnixMicros * 1000).ToString(System.Globalization.CultureInfo.InvariantCulture));
                    w.WriteString("endTimeUnixNano", ((span.StartUnixMicros + span.DurationMicros) * 1000).ToString(System.Globalization.CultureInfo.InvariantCulture));
                    w.WriteStartArray("attributes");
                    foreach (var (key, value) in span.Tags)
                    {
                        Attribute(w, key, value);
                    }

                    w.WriteEndArray();
                    if (span.Error)
                    {
                        w.WriteStartObject("status");
                        w.WriteNumber("code", OtlpStatusError);
                        w.WriteEndObject();
                    }

                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] Zipkin(IReadOnlyList<SpanData> spans)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            foreach (var span in spans)
            {
                w.WriteStartObject();
                w.WriteString("traceId", span.TraceId);
                w.WriteString("id", span.SpanId);
                if (span.ParentSpanId is not null)
                {
                    w.WriteString("parentId", span.ParentSpanId);
                }

                w.WriteString("name", span.Name);
                w.WriteString("kind", span.Kind == SpanKind.Server ? "SERVER" : "CLIENT");
                w.WriteNumber("timestamp", span.StartUnixMicros);
                // Zipkin wants at least 1 µs.
                w.WriteNumber("duration", Math.Max(1, span.DurationMicros));
                w.WriteStartObject("localEndpoint");
                w.WriteString("serviceName", span.ServiceName);
                w.WriteEndObject();
                w.WriteStartObject("tags");
                foreach (var (key, value) in span.Tags)
                {
                    w.WriteString(key, value);
                }

                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void Attribute(Utf8JsonWriter w, string key, string value)
    {
        w.WriteStartObject();
        w.WriteString("key", key);
        w.WriteStartObject("value");
        w.WriteString("stringValue", value);
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
