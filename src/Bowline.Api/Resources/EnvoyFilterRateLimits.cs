namespace Bowline.Api.Resources;

/// <summary>Where a local rate limit taken from an EnvoyFilter patch applies on the selected proxies.</summary>
public enum RateLimitScope
{
    /// <summary>All requests into a sidecar's workload (SIDECAR_INBOUND).</summary>
    SidecarInbound,
    /// <summary>All requests of a gateway (GATEWAY).</summary>
    Gateway,
    /// <summary>Both, for context ANY (or none).</summary>
    Any,
}

/// <summary>One local rate limit an EnvoyFilter patch asks for: where, and its token bucket.</summary>
/// <param name="Route">A gateway route name (HTTP_ROUTE patch naming routeConfiguration.vhost.route.name); null for all.</param>
public sealed record EnvoyFilterRateLimit(int PatchIndex, RateLimitScope Scope, string? Route, long MaxTokens, long TokensPerFill, TimeSpan FillInterval);

/// <summary>
/// Reads the envoy.filters.http.local_ratelimit patches of an EnvoyFilter — the shape Istio's docs use: an HTTP_FILTER
/// patch inserting the filter with a typed_config, and/or an HTTP_ROUTE MERGE patch with typed_per_filter_config —
/// and says why every other patch is ignored. Shared by validation (the warnings) and the control plane (the limits).
/// </summary>
public static class EnvoyFilterRateLimits
{
    public const string FilterName = "envoy.filters.http.local_ratelimit";
    private const string MessageType = "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit";

    /// <summary>The limits in force, and (path, message) for each patch or part Bowline ignores.</summary>
    public static (IReadOnlyList<EnvoyFilterRateLimit> Limits, IReadOnlyList<(string Path, string Message)> Ignored) Read(EnvoyFilterSpec spec)
    {
        var limits = new List<EnvoyFilterRateLimit>();
        var ignored = new List<(string, string)>();
        for (var i = 0; i < spec.ConfigPatches.Count; i++)
        {
            var patch = spec.ConfigPatches[i];
            var path = $"spec.configPatches[{i}]";
            var context = patch.Match?.Context ?? "ANY";
            var value = patch.Patch?.Value;
            EnvoyTypedConfig? typed;
            string? route = null;
            switch (patch.ApplyTo)
            {
                case "HTTP_FILTER" when value?.Name == FilterName:
                    typed = value.TypedConfig;
                    break;
                case "HTTP_ROUTE" when value is not null && value.TypedPerFilterConfig.ContainsKey(FilterName):
                    typed = value.TypedPerFilterConfig[FilterName];
                    route = patch.Match?.RouteConfiguration?.Vhost?.Route?.Name;
                    if (value.TypedPerFilterConfig.Count > 1)
                    {
                        ignored.Add(($"{path}.patch.value.typed_per_filter_config",
                            $"only {FilterName} is supported by Bowline; the other filters' configs are ignored"));
                    }

                    break;
                default:
                    ignored.Add((path, $"EnvoyFilter patches are not supported by Bowline except {FilterName} (HTTP_FILTER, HTTP_ROUTE); this patch is ignored"));
                    continue;
            }

            var scope = context switch
            {
                "SIDECAR_INBOUND" => RateLimitScope.SidecarInbound,
                "GATEWAY" => RateLimitScope.Gateway,
                "ANY" => RateLimitScope.Any,
                _ => (RateLimitScope?)null,
            };
            if (scope is null)
            {
                ignored.Add(($"{path}.match.context", $"local rate limit in context {context} is not supported by Bowline (SIDECAR_INBOUND, GATEWAY or ANY); this patch is ignored"));
                continue;
            }

            // A route name only means something where Bowline has named routes: on gateways.
            if (scope == RateLimitScope.SidecarInbound)
            {
                route = null;
            }

            var config = Unwrap(typed);
            if (config?.TokenBucket is not { MaxTokens: { } max, FillInterval: { } interval } bucket)
            {
                // Envoy: a filter without a token bucket only installs the filter; routes bring the buckets.
                if (patch.ApplyTo == "HTTP_ROUTE")
                {
                    ignored.Add(($"{path}.patch.value", "no token_bucket (max_tokens, fill_interval): this patch sets no limit"));
                }

                continue;
            }

            var enabled = Fraction(config.FilterEnabled);
            var enforced = Fraction(config.FilterEnforced);
            if (enabled is not 1.0 || enforced is not 1.0)
            {
                ignored.Add(($"{path}.patch.value", enabled is 0.0 || enforced is 0.0
                    ? "filter_enabled/filter_enforced are 0% (Envoy's default when unset): the limit is not enforced, in Envoy as in Bowline"
                    : "only 100% filter_enabled/filter_enforced is supported by Bowline; this limit is ignored"));
                continue;
            }

            if (config.ResponseHeadersToAdd.Count > 0)
            {
                ignored.Add(($"{path}.patch.value", "response_headers_to_add is not supported by Bowline yet; ignored (the 429 carries x-envoy-ratelimited only)"));
            }

            limits.Add(new EnvoyFilterRateLimit(i, scope.Value, route, max, bucket.TokensPerFill ?? 1, interval));
        }

        return (limits, ignored);
    }

    /// <summary>The LocalRateLimit fields, inline or inside Istio's udpa TypedStruct wrapper.</summary>
    private static EnvoyTypedConfig? Unwrap(EnvoyTypedConfig? typed) =>
        typed is { Value: { } inner } && (typed.TypeUrl?.EndsWith(MessageType, StringComparison.Ordinal) ?? false) ? inner : typed;

    /// <summary>The runtime fraction's default value, 0–1; Envoy's default when unset is 0% for this filter.</summary>
    private static double Fraction(EnvoyRuntimePercent? percent)
    {
        if (percent?.DefaultValue is not { } value)
        {
            return 0;
        }

        double denominator = value.Denominator switch
        {
            "TEN_THOUSAND" => 10_000,
            "MILLION" => 1_000_000,
            _ => 100,
        };
        return Math.Min(1.0, (value.Numerator ?? 0) / denominator);
    }
}
