namespace Bowline.Api.Tests;

public sealed class FaultValidationTests
{
    // Istio's published bookinfo fault tasks, verbatim: v1alpha3 and the deprecated integer percent.
    private const string IstioRatingsHead = """
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

        """;

    private const string IstioRatingsTail = """
            route:
            - destination:
                host: ratings
                subset: v1
          - route:
            - destination:
                host: ratings
                subset: v1
        """;

    private const string VsHead = """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: ratings
        spec:
          hosts: [ratings]
          http:
          - route:
            - destination: {host: ratings}
            fault:
        """;

    [Theory]
    [InlineData("      delay:\n        percent: 100\n        fixedDelay: 7s\n")]
    [InlineData("      abort:\n        percent: 100\n        httpStatus: 500\n")]
    public void Validate_IstioPublishedFaultTasks_AreValid(string fault)
    {
        var result = Diag.Validate("vs.yaml", IstioRatingsHead + fault + IstioRatingsTail);

        Assert.Empty(result.Errors);
        Assert.Single(result.Resources);
    }

    [Theory]
    [InlineData("{abort: {grpcStatus: UNAVAILABLE}}")]
    [InlineData("{abort: {httpStatus: 503, percentage: {value: 0.5}}}")]
    [InlineData("{delay: {fixedDelay: 1s}, abort: {httpStatus: 500}}")]
    public void Validate_SupportedFaults_AreValid(string fault) =>
        Assert.Empty(Diag.Errors("vs.yaml", VsHead + " " + fault + "\n"));

    [Theory]
    [InlineData("{abort: {grpcStatus: NOPE}}", "spec.http[0].fault.abort.grpcStatus: unknown gRPC status \"NOPE\"")]
    [InlineData("{abort: {httpStatus: 500, percent: 101}}", "spec.http[0].fault.abort.percent: percentage 101 is out of range 0-100")]
    [InlineData("{abort: {httpStatus: 600}}", "spec.http[0].fault.abort.httpStatus: HTTP status 600 is out of range 200-599")]
    [InlineData("{delay: {fixedDelay: 1s, percentage: {value: -1}}}", "spec.http[0].fault.delay.percentage.value: percentage -1 is out of range 0-100")]
    public void Validate_BadFault_IsAnErrorNamingTheField(string fault, string expected)
    {
        var error = Assert.Single(Diag.Errors("vs.yaml", VsHead + " " + fault + "\n"));

        Assert.EndsWith(expected, error, StringComparison.Ordinal);
    }
}
