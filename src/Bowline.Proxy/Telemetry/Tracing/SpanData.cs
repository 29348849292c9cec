namespace Bowline.Proxy.Telemetry.Tracing;

internal enum SpanKind
{
    Server,
    Client,
}

/// <summary>A finished span, detached from the request, waiting in the export queue.</summary>
internal sealed record SpanData(
    string TraceId,
    string SpanId,
    string? ParentSpanId,
    string Name,
    SpanKind Kind,
    long StartUnixMicros,
    long DurationMicros,
    bool Error,
    string ServiceName,
    IReadOnlyList<KeyValuePair<string, string>> Tags);
