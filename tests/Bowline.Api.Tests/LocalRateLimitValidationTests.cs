namespace Bowline.Api.Tests;

public sealed class LocalRateLimitValidationTests
{
    [Fact]
    public void Valid_TheSampleShape_HasNoDiagnostics()
    {
        var result = Diag.Validate("rl.yaml", """
            apiVersion: bowline.io/v1alpha1
            kind: LocalRateLimit
            metadata:
              name: httpbin
            spec:
              workloadSelector:
                labels:
                  app: httpbin
              routes: [status]
              tokenBucket:
                maxTokens: 10
                tokensPerFill: 5
                fillInterval: 1m
            """);

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void OutOfRange_TokenBucket_NamesFileLineAndField()
    {
        var errors = Diag.Errors("rl.yaml", """
            apiVersion: bowline.io/v1alpha1
            kind: LocalRateLimit
            metadata:
              name: httpbin
            spec:
              tokenBucket:
                maxTokens: 0
                tokensPerFill: 0
                fillInterval: 10ms
            """);

        Assert.Equal([
            "rl.yaml:7: spec.tokenBucket.maxTokens: must be between 1 and 4294967295, got 0",
            "rl.yaml:8: spec.tokenBucket.tokensPerFill: must be between 1 and 4294967295, got 0",
            "rl.yaml:9: spec.tokenBucket.fillInterval: must be at least 50ms",
        ], errors);
    }

    [Fact]
    public void MissingTokenBucket_IsAnError()
    {
        var errors = Diag.Errors("rl.yaml", "apiVersion: bowline.io/v1alpha1\nkind: LocalRateLimit\nmetadata:\n  name: x\nspec: {}\n");

        Assert.Single(errors);
        Assert.Contains("spec.tokenBucket: required", errors[0], StringComparison.Ordinal);
    }

    [Fact]
    public void EnvoyFilter_IsIgnoredWithAWarningPointingAtLocalRateLimit()
    {
        var result = Diag.Validate("ef.yaml", """
            apiVersion: networking.istio.io/v1alpha3
            kind: EnvoyFilter
            metadata:
              name: filter-local-ratelimit-svc
            spec:
              workloadSelector:
                labels:
                  app: httpbin
            """);

        Assert.True(result.IsValid);
        var warning = Assert.Single(result.Warnings).ToString();
        Assert.StartsWith("ef.yaml:1: EnvoyFilter (networking.istio.io/v1alpha3) is not supported by Bowline; ignored.", warning, StringComparison.Ordinal);
        Assert.Contains("LocalRateLimit (bowline.io/v1alpha1)", warning, StringComparison.Ordinal);
    }
}
