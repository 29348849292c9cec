namespace Bowline.Api.Xds;

/// <summary>
/// Envoy's local rate limit (envoy.filters.http.local_ratelimit) token bucket: it starts full with
/// <see cref="MaxTokens"/>; every <see cref="FillInterval"/> it gets <see cref="TokensPerFill"/> more, up to
/// <see cref="MaxTokens"/>; each request takes one, and a request that finds none is answered 429 by the proxy.
/// One bucket per config (listener or route), shared by every connection of the proxy, as Envoy's is per process.
/// </summary>
public sealed record LocalRateLimit
{
    /// <summary>Name for counters and logs (the LocalRateLimit resource, "namespace/name").</summary>
    public string? Name { get; init; }
    /// <summary>At least 1.</summary>
    public required long MaxTokens { get; init; }
    /// <summary>At least 1; Envoy's default is 1.</summary>
    public long TokensPerFill { get; init; } = 1;
    /// <summary>At least 50 ms, as Envoy requires.</summary>
    public required TimeSpan FillInterval { get; init; }
}
