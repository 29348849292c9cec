using Bowline.Proxy.Telemetry.Tracing;
using Bowline.Proxy.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Tests.Telemetry;

public sealed class TracePropagationTests
{
    private const string Trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    private const string Parent = "00f067aa0ba902b7";

    private static (ActiveSpan Span, IHeaderDictionary Headers) Start(HeaderDictionary headers, bool sampled = true)
    {
        var incoming = TraceContext.Extract(headers);
        return (ActiveSpan.Start(headers, incoming, sampled, new Random(7)), headers);
    }

    [Fact]
    public void W3C_In_SameTraceNewSpanParentIsCaller_AllFormatsOut()
    {
        var (span, h) = Start(new HeaderDictionary { ["traceparent"] = $"00-{Trace}-{Parent}-01", ["tracestate"] = "k=v" });

        Assert.Equal(Trace, span.TraceId);
        Assert.Equal(Parent, span.ParentSpanId);
        Assert.NotEqual(Parent, span.SpanId);
        Assert.Equal($"00-{Trace}-{span.SpanId}-01", h["traceparent"]);
        Assert.Equal("k=v", h["tracestate"]);
        Assert.Equal(Trace, h["x-b3-traceid"]);
        Assert.Equal(span.SpanId, h["x-b3-spanid"]);
        Assert.Equal(Parent, h["x-b3-parentspanid"]);
        Assert.Equal("1", h["x-b3-sampled"]);
        Assert.False(h.ContainsKey("b3"));
    }

    [Fact]
    public void B3Multi_64BitId_IsPaddedAndDecisionKept()
    {
        var headers = new HeaderDictionary { ["x-b3-traceid"] = "a3ce929d0e0e4736", ["x-b3-spanid"] = Parent, ["x-b3-sampled"] = "0" };
        var incoming = TraceContext.Extract(headers);

        Assert.Equal(new TraceContext("0000000000000000a3ce929d0e0e4736", Parent, false), incoming);
        var (span, h) = Start(headers, sampled: false);
        Assert.Equal($"00-0000000000000000a3ce929d0e0e4736-{span.SpanId}-00", h["traceparent"]);
        Assert.Equal("0", h["x-b3-sampled"]);
    }

    [Fact]
    public void B3Flags_Debug_MeansSampled()
    {
        var incoming = TraceContext.Extract(new HeaderDictionary { ["x-b3-traceid"] = Trace, ["x-b3-spanid"] = Parent, ["x-b3-flags"] = "1" });
        Assert.True(incoming.Sampled);
    }

    [Fact]
    public void B3Single_In_IsReadAndRewritten()
    {
        var (span, h) = Start(new HeaderDictionary { ["b3"] = $"{Trace}-{Parent}-1" });

        Assert.Equal(Trace, span.TraceId);
        Assert.Equal(Parent, span.ParentSpanId);
        Assert.Equal($"{Trace}-{span.SpanId}-1-{Parent}", h["b3"]);
        Assert.Equal($"00-{Trace}-{span.SpanId}-01", h["traceparent"]);
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("d", true)]
    [InlineData("0", false)]
    public void B3Single_LoneDecision_NoContext(string value, bool sampled)
    {
        Assert.Equal(new TraceContext(null, null, sampled), TraceContext.Extract(new HeaderDictionary { ["b3"] = value }));
    }

    [Fact]
    public void Nothing_In_NewTraceWithoutParent()
    {
        var (span, h) = Start(new HeaderDictionary { ["x-b3-parentspanid"] = "stale0000000000" });

        Assert.Matches("^[0-9a-f]{32}$", span.TraceId);
        Assert.Matches("^[0-9a-f]{16}$", span.SpanId);
        Assert.Null(span.ParentSpanId);
        Assert.False(h.ContainsKey("x-b3-parentspanid"));
        Assert.Equal($"00-{span.TraceId}-{span.SpanId}-01", h["traceparent"]);
    }

    [Theory]
    [InlineData("00-00000000000000000000000000000000-00f067aa0ba902b7-01")] // zero trace id
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01")] // zero span id
    [InlineData("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")] // forbidden version
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7")] // no flags
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01")] // short trace id
    public void InvalidTraceParent_FallsBackToB3(string traceparent)
    {
        var incoming = TraceContext.Extract(new HeaderDictionary
        {
            ["traceparent"] = traceparent,
            ["x-b3-traceid"] = "11111111111111111111111111111111",
            ["x-b3-spanid"] = "2222222222222222",
        });

        Assert.Equal(new TraceContext("11111111111111111111111111111111", "2222222222222222", null), incoming);
    }

    [Fact]
    public void Sampling_IncomingDecisionWinsOverPercentage()
    {
        var alwaysDraw0 = new FixedRandomSource(0);
        Assert.False(Sampler.Decide(new HeaderDictionary(), new TraceContext(Trace, Parent, false), 100, alwaysDraw0));
        Assert.True(Sampler.Decide(new HeaderDictionary(), new TraceContext(Trace, Parent, true), 0, alwaysDraw0));
    }

    [Theory]
    [InlineData("x-envoy-force-trace")]
    [InlineData("x-client-trace-id")]
    public void Sampling_ForcedByEnvoysHeaders(string header)
    {
        Assert.True(Sampler.Decide(new HeaderDictionary { [header] = "yes" }, new TraceContext(Trace, Parent, false), 0, new FixedRandomSource(9999)));
    }

    [Fact]
    public void Sampling_OnePercentOfSeededDraws()
    {
        var random = new SeededRandomSource(42);
        var sampled = Enumerable.Range(0, 100_000).Count(_ => Sampler.Decide(new HeaderDictionary(), default, 1, random));

        // 1 % of 100 000 is 1000 (σ ≈ 31): a wide band, and the seed makes it the same every run.
        Assert.InRange(sampled, 850, 1150);
        Assert.Equal(0, Enumerable.Range(0, 1000).Count(_ => Sampler.Decide(new HeaderDictionary(), default, 0, random)));
        Assert.Equal(1000, Enumerable.Range(0, 1000).Count(_ => Sampler.Decide(new HeaderDictionary(), default, 100, random)));
    }

    [Fact]
    public void Sampling_FractionalPercentage()
    {
        Assert.True(Sampler.Decide(new HeaderDictionary(), default, 0.5, new FixedRandomSource(49)));
        Assert.False(Sampler.Decide(new HeaderDictionary(), default, 0.5, new FixedRandomSource(50)));
    }
}
