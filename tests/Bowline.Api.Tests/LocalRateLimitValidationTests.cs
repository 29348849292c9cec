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
    public void EnvoyFilter_LocalRateLimitPatchesAsIstioDocsWriteThem_AreReadWithoutWarnings()
    {
        var result = Diag.Validate("ef.yaml", """
            apiVersion: networking.istio.io/v1alpha3
            kind: EnvoyFilter
            metadata:
              name: gateway-limit
              namespace: istio-system
            spec:
              workloadSelector:
                labels:
                  istio: ingressgateway
              configPatches:
              - applyTo: HTTP_FILTER
                match:
                  context: GATEWAY
                  listener:
                    filterChain:
                      filter:
                        name: envoy.filters.network.http_connection_manager
                patch:
                  operation: INSERT_BEFORE
                  value:
                    name: envoy.filters.http.local_ratelimit
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                      stat_prefix: http_local_rate_limiter
                      token_bucket: {max_tokens: 10, tokens_per_fill: 5, fill_interval: 1m}
                      filter_enabled: {runtime_key: e, default_value: {numerator: 100, denominator: HUNDRED}}
                      filter_enforced: {runtime_key: f, default_value: {numerator: 1000000, denominator: MILLION}}
              - applyTo: HTTP_ROUTE
                match:
                  context: GATEWAY
                  routeConfiguration:
                    vhost:
                      name: "*:80"
                      route:
                        name: status
                patch:
                  operation: MERGE
                  value:
                    typed_per_filter_config:
                      envoy.filters.http.local_ratelimit:
                        "@type": type.googleapis.com/udpa.type.v1.TypedStruct
                        type_url: type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                        value:
                          stat_prefix: http_local_rate_limiter
                          token_bucket: {max_tokens: 2, fill_interval: 10s}
                          filter_enabled: {default_value: {numerator: 100}}
                          filter_enforced: {default_value: {numerator: 100}}
            """);

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Empty(result.Warnings.Select(w => w.ToString()));
        var filter = (Bowline.Api.Resources.EnvoyFilter)Assert.Single(result.Resources).Resource;
        var limits = Bowline.Api.Resources.EnvoyFilterRateLimits.Read(filter.Spec).Limits;
        Assert.Equal([
            new(0, Bowline.Api.Resources.RateLimitScope.Gateway, null, 10, 5, TimeSpan.FromMinutes(1)),
            new Bowline.Api.Resources.EnvoyFilterRateLimit(1, Bowline.Api.Resources.RateLimitScope.Gateway, "status", 2, 1, TimeSpan.FromSeconds(10)),
        ], limits);
    }

    [Fact]
    public void EnvoyFilter_OtherPatches_AreIgnoredWithALocatedWarning()
    {
        var result = Diag.Validate("ef.yaml", """
            apiVersion: networking.istio.io/v1alpha3
            kind: EnvoyFilter
            metadata:
              name: lua
            spec:
              configPatches:
              - applyTo: HTTP_FILTER
                match:
                  context: SIDECAR_INBOUND
                patch:
                  operation: INSERT_BEFORE
                  value:
                    name: envoy.filters.http.lua
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua
                      inlineCode: "function envoy_on_request(h) end"
              - applyTo: HTTP_FILTER
                match:
                  context: SIDECAR_OUTBOUND
                patch:
                  operation: INSERT_BEFORE
                  value:
                    name: envoy.filters.http.local_ratelimit
                    typed_config:
                      token_bucket: {max_tokens: 1, fill_interval: 1s}
            """);

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal([
            "ef.yaml:7: spec.configPatches[0]: EnvoyFilter patches are not supported by Bowline except envoy.filters.http.local_ratelimit (HTTP_FILTER, HTTP_ROUTE); this patch is ignored",
            "ef.yaml:19: spec.configPatches[1].match.context: local rate limit in context SIDECAR_OUTBOUND is not supported by Bowline (SIDECAR_INBOUND, GATEWAY or ANY); this patch is ignored",
        ], result.Warnings.Select(w => w.ToString()));
    }

    [Fact]
    public void EnvoyFilter_LimitWithoutFilterEnabled_IsNotEnforced_AsInEnvoy()
    {
        var result = Diag.Validate("ef.yaml", """
            apiVersion: networking.istio.io/v1alpha3
            kind: EnvoyFilter
            metadata:
              name: rl
            spec:
              configPatches:
              - applyTo: HTTP_FILTER
                patch:
                  operation: INSERT_BEFORE
                  value:
                    name: envoy.filters.http.local_ratelimit
                    typed_config:
                      token_bucket: {max_tokens: 1, fill_interval: 1s}
            """);

        var warning = Assert.Single(result.Warnings).ToString();
        Assert.Contains("filter_enabled/filter_enforced are 0%", warning, StringComparison.Ordinal);
        var filter = (Bowline.Api.Resources.EnvoyFilter)Assert.Single(result.Resources).Resource;
        Assert.Empty(Bowline.Api.Resources.EnvoyFilterRateLimits.Read(filter.Spec).Limits);
    }
}
