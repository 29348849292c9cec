using System.Collections.Immutable;
using Bowline.Api.Xds;
using Bowline.ControlPlane.Generation;

namespace Bowline.ControlPlane.Tests.Generation;

public sealed class FaultGenerationTests
{
    // Istio's published bookinfo tasks, verbatim (samples/bookinfo/networking in Istio's repository).
    private const string IstioDelay = """
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata:
          name: ratings
        spec:
          hosts:
          - ratings
          http:
          - match:
            - headers:
                end-user:
                  exact: jason
            fault:
              delay:
                percent: 100
                fixedDelay: 7s
            route:
            - destination:
                host: ratings
                subset: v1
          - route:
            - destination:
                host: ratings
                subset: v1
        """;

    private const string IstioAbort = """
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata:
          name: ratings
        spec:
          hosts:
          - ratings
          http:
          - match:
            - headers:
                end-user:
                  exact: jason
            fault:
              abort:
                percent: 100
                httpStatus: 500
            route:
            - destination:
                host: ratings
                subset: v1
          - route:
            - destination:
                host: ratings
                subset: v1
        """;

    private static string RatingsFault(string fault) => $$"""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: ratings}
        spec:
          hosts: [ratings]
          http:
          - fault: {{fault}}
            route:
            - destination: {host: ratings, subset: v1}
        """;

    [Fact]
    public void Generate_IstioDelayTask_SevenSecondDelayOnTheJasonRouteOnly()
    {
        var notes = new List<string>();
        var routes = Bookinfo.RatingsRoutes(IstioDelay, notes);

        Assert.Equal(2, routes.Length);
        Assert.Equal("jason", Assert.Single(routes[0].Matches).Headers["end-user"].Exact);
        Assert.Equal(new FaultPolicy { Delay = new FaultDelay { FixedDelay = TimeSpan.FromSeconds(7), Percentage = 100 } }, routes[0].Fault);
        Assert.Null(routes[1].Fault);
        Assert.Empty(notes);
    }

    [Fact]
    public void Generate_IstioAbortTask_Http500OnTheJasonRouteOnly()
    {
        var notes = new List<string>();
        var routes = Bookinfo.RatingsRoutes(IstioAbort, notes);

        Assert.Equal(new FaultPolicy { Abort = new FaultAbort { HttpStatus = 500, Percentage = 100 } }, routes[0].Fault);
        Assert.Null(routes[1].Fault);
        Assert.Empty(notes);
    }

    [Theory]
    [InlineData("{abort: {httpStatus: 503, percentage: {value: 12.5}}}", 12.5)]
    [InlineData("{abort: {httpStatus: 503, percent: 30}}", 30)]
    [InlineData("{abort: {httpStatus: 503, percent: 30, percentage: {value: 0.1}}}", 0.1)]
    [InlineData("{abort: {httpStatus: 503}}", 100)]
    public void Generate_AbortPercentage_PercentageWinsOverPercentAndDefaultsTo100(string fault, double expected) =>
        Assert.Equal(expected, Bookinfo.RatingsRoutes(RatingsFault(fault))[0].Fault!.Abort!.Percentage);

    [Theory]
    [InlineData("{delay: {fixedDelay: 250ms, percentage: {value: 50}}}", 50)]
    [InlineData("{delay: {fixedDelay: 250ms, percent: 25}}", 25)]
    [InlineData("{delay: {fixedDelay: 250ms}}", 100)]
    public void Generate_DelayPercentage_PercentageWinsOverPercentAndDefaultsTo100(string fault, double expected)
    {
        var delay = Bookinfo.RatingsRoutes(RatingsFault(fault))[0].Fault!.Delay!;

        Assert.Equal((TimeSpan.FromMilliseconds(250), expected), (delay.FixedDelay, delay.Percentage));
    }

    [Theory]
    [InlineData("OK", 0)]
    [InlineData("CANCELLED", 1)]
    [InlineData("NOT_FOUND", 5)]
    [InlineData("UNAVAILABLE", 14)]
    [InlineData("UNAUTHENTICATED", 16)]
    public void Generate_GrpcStatusName_MapsToItsCode(string name, int code)
    {
        var abort = Bookinfo.RatingsRoutes(RatingsFault($"{{abort: {{grpcStatus: {name}}}}}"))[0].Fault!.Abort!;

        Assert.Equal((null, code), (abort.HttpStatus, abort.GrpcStatus));
    }

    [Fact]
    public void Generate_DelayAndAbort_BothOnTheRoute()
    {
        var fault = Bookinfo.RatingsRoutes(RatingsFault("{delay: {fixedDelay: 1s, percent: 10}, abort: {httpStatus: 418, percent: 20}}"))[0].Fault!;

        Assert.Equal((TimeSpan.FromSeconds(1), 10.0, 418, 20.0), (fault.Delay!.FixedDelay, fault.Delay.Percentage, fault.Abort!.HttpStatus, fault.Abort.Percentage));
    }

    [Fact]
    public void Generate_Http2ErrorAbort_SkippedWithANote()
    {
        var notes = new List<string>();
        var routes = Bookinfo.RatingsRoutes(RatingsFault("{abort: {http2Error: REFUSED_STREAM}}"), notes);

        Assert.Null(routes[0].Fault);
        Assert.Contains(notes, n => n.Contains("fault.abort skipped", StringComparison.Ordinal));
    }
}
