using Bowline.Api.Xds;
using Bowline.Proxy.LoadBalancing;

namespace Bowline.Proxy.Config;

/// <summary>A validated <see cref="ProxyConfig"/> with everything the request path needs precomputed.</summary>
/// <param name="Clusters">Every cluster, so applying the config can start (and later stop) their outlier detectors.</param>
internal sealed record CompiledConfig(ProxyConfig Source, IReadOnlyList<CompiledListener> Listeners, IReadOnlyList<CompiledCluster> Clusters)
{
    /// <summary>The rate limit buckets this config uses, so applying it can let the others go.</summary>
    public IReadOnlySet<RateLimit.TokenBucket> RateLimits { get; init; } = new HashSet<RateLimit.TokenBucket>();
}
