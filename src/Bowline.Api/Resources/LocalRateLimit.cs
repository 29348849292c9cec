namespace Bowline.Api.Resources;

// bowline.io/v1alpha1 LocalRateLimit: Envoy's local rate limit (envoy.filters.http.local_ratelimit) as one small
// resource, instead of the EnvoyFilter patches Istio users write for it. Field names follow that EnvoyFilter: a
// workloadSelector with labels, and Envoy's token_bucket in camelCase.

public sealed record LocalRateLimitResource : Resource
{
    public LocalRateLimitSpec Spec { get; init; } = new();
}

public sealed record LocalRateLimitSpec
{
    /// <summary>The proxies it applies to, in the resource's namespace (every namespace from istio-system, the
    /// root namespace), as an EnvoyFilter's workloadSelector; none means every proxy there.</summary>
    public ProxySelector? WorkloadSelector { get; init; }

    /// <summary>
    /// Route names (VirtualService http[].name) whose requests get their own bucket on the selected proxies, as an
    /// EnvoyFilter HTTP_ROUTE patch with typed_per_filter_config would; empty means all the proxy's inbound traffic
    /// (sidecars) or all its gateway traffic (gateways), as an HTTP_FILTER patch would.
    /// </summary>
    public IReadOnlyList<string> Routes { get; init; } = [];

    public TokenBucketSpec? TokenBucket { get; init; }
}

/// <summary>An EnvoyFilter-style workloadSelector (<c>labels</c>, not DestinationRule's <c>matchLabels</c>).</summary>
public sealed record ProxySelector
{
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
}

/// <summary>Envoy's token_bucket: max_tokens, tokens_per_fill (default 1), fill_interval.</summary>
public sealed record TokenBucketSpec
{
    public long? MaxTokens { get; init; }
    public long? TokensPerFill { get; init; }
    public TimeSpan? FillInterval { get; init; }
}
