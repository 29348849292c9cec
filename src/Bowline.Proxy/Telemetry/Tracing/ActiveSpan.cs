using System.Buffers.Binary;
using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Telemetry.Tracing;

/// <summary>This proxy's span for one request (<see cref="Pipeline.ProxyRequestFeature.Span"/>), made at request start.</summary>
internal sealed class ActiveSpan
{
    public required string TraceId { get; init; }
    public required string SpanId { get; init; }
    public string? ParentSpanId { get; init; }
    public required bool Sampled { get; init; }

    /// <summary>Starts a span under the incoming context (or a new trace) and writes the context the upstream must see.</summary>
    public static ActiveSpan Start(IHeaderDictionary headers, TraceContext incoming, bool sampled, Random random)
    {
        var span = new ActiveSpan
        {
            TraceId = incoming.TraceId ?? NewId(random, 16),
            SpanId = NewId(random, 8),
            ParentSpanId = incoming.TraceId is null ? null : incoming.ParentSpanId,
            Sampled = sampled,
        };
        span.Inject(headers);
        return span;
    }

    /// <summary>W3C and B3 multi always (apps forward whichever they know), B3 single when the caller used it.</summary>
    private void Inject(IHeaderDictionary headers)
    {
        var flag = Sampled ? "1" : "0";
        headers[TraceContext.TraceParent] = $"00-{TraceId}-{SpanId}-0{flag}";
        headers[TraceContext.B3TraceId] = TraceId;
        headers[TraceContext.B3SpanId] = SpanId;
        headers[TraceContext.B3Sampled] = flag;
        if (ParentSpanId is not null)
        {
            headers[TraceContext.B3ParentSpanId] = ParentSpanId;
        }
        else
        {
            headers.Remove(TraceContext.B3ParentSpanId);
        }

        if (headers.ContainsKey(TraceContext.B3Single))
        {
            headers[TraceContext.B3Single] = ParentSpanId is null ? $"{TraceId}-{SpanId}-{flag}" : $"{TraceId}-{SpanId}-{flag}-{ParentSpanId}";
        }
    }

    private static string NewId(Random random, int bytes)
    {
        Span<byte> buffer = stackalloc byte[16];
        do
        {
            random.NextBytes(buffer[..bytes]);
        }
        while (BinaryPrimitives.ReadUInt64LittleEndian(buffer) == 0 && (bytes == 8 || BinaryPrimitives.ReadUInt64LittleEndian(buffer[8..]) == 0));

        return Convert.ToHexStringLower(buffer[..bytes]);
    }
}
