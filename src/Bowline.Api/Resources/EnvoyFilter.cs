namespace Bowline.Api.Resources;

// Istio networking.istio.io EnvoyFilter, modelled only as far as Bowline reads it: the configPatches that install
// Envoy's local rate limit (envoy.filters.http.local_ratelimit). Everything else in a patch is accepted (lenient: an
// Envoy config has far more fields than Bowline models) and the patch is ignored with a warning
// (see EnvoyFilterRateLimits).

public sealed record EnvoyFilter : Resource
{
    public EnvoyFilterSpec Spec { get; init; } = new();
}

[LenientFields]
public sealed record EnvoyFilterSpec
{
    public ProxySelector? WorkloadSelector { get; init; }
    public IReadOnlyList<EnvoyConfigPatch> ConfigPatches { get; init; } = [];
    public int? Priority { get; init; }
}

[LenientFields]
public sealed record EnvoyConfigPatch
{
    /// <summary>HTTP_FILTER, HTTP_ROUTE, LISTENER, CLUSTER, ... (only the first two can carry a local rate limit).</summary>
    public string? ApplyTo { get; init; }
    public EnvoyPatchMatch? Match { get; init; }
    public EnvoyPatch? Patch { get; init; }
}

[LenientFields]
public sealed record EnvoyPatchMatch
{
    /// <summary>ANY, SIDECAR_INBOUND, SIDECAR_OUTBOUND, GATEWAY.</summary>
    public string? Context { get; init; }
    public EnvoyRouteConfigurationMatch? RouteConfiguration { get; init; }
}

[LenientFields]
public sealed record EnvoyRouteConfigurationMatch
{
    public EnvoyVirtualHostMatch? Vhost { get; init; }
}

[LenientFields]
public sealed record EnvoyVirtualHostMatch
{
    public string? Name { get; init; }
    public EnvoyRouteMatch? Route { get; init; }
}

[LenientFields]
public sealed record EnvoyRouteMatch
{
    public string? Name { get; init; }
}

[LenientFields]
public sealed record EnvoyPatch
{
    public string? Operation { get; init; }
    public EnvoyPatchValue? Value { get; init; }
}

[LenientFields]
public sealed record EnvoyPatchValue
{
    /// <summary>The HTTP filter's name, e.g. envoy.filters.http.local_ratelimit.</summary>
    public string? Name { get; init; }

    [YamlField("typed_config")]
    public EnvoyTypedConfig? TypedConfig { get; init; }

    [YamlField("typed_per_filter_config")]
    public IReadOnlyDictionary<string, EnvoyTypedConfig> TypedPerFilterConfig { get; init; } = new Dictionary<string, EnvoyTypedConfig>();
}

/// <summary>
/// A typed_config: either the LocalRateLimit message itself ("@type" ...LocalRateLimit, fields inline) or Istio's
/// usual udpa TypedStruct wrapper ("@type" ...TypedStruct, type_url ...LocalRateLimit, the fields under value).
/// </summary>
[LenientFields]
public sealed record EnvoyTypedConfig
{
    [YamlField("@type")]
    public string? Type { get; init; }

    [YamlField("type_url")]
    public string? TypeUrl { get; init; }

    public EnvoyTypedConfig? Value { get; init; }

    [YamlField("stat_prefix")]
    public string? StatPrefix { get; init; }

    [YamlField("token_bucket")]
    public EnvoyTokenBucket? TokenBucket { get; init; }

    [YamlField("filter_enabled")]
    public EnvoyRuntimePercent? FilterEnabled { get; init; }

    [YamlField("filter_enforced")]
    public EnvoyRuntimePercent? FilterEnforced { get; init; }

    [YamlField("response_headers_to_add")]
    public IReadOnlyList<EnvoyAnything> ResponseHeadersToAdd { get; init; } = [];
}

/// <summary>Any mapping: accepted, not read.</summary>
[LenientFields]
public sealed record EnvoyAnything;

[LenientFields]
public sealed record EnvoyTokenBucket
{
    [YamlField("max_tokens")]
    public long? MaxTokens { get; init; }

    [YamlField("tokens_per_fill")]
    public long? TokensPerFill { get; init; }

    [YamlField("fill_interval")]
    public TimeSpan? FillInterval { get; init; }
}

[LenientFields]
public sealed record EnvoyRuntimePercent
{
    [YamlField("default_value")]
    public EnvoyFractionalPercent? DefaultValue { get; init; }
}

[LenientFields]
public sealed record EnvoyFractionalPercent
{
    public long? Numerator { get; init; }
    /// <summary>HUNDRED (default), TEN_THOUSAND or MILLION.</summary>
    public string? Denominator { get; init; }
}
