using System.Collections.Concurrent;
using Bowline.Api.Xds;

namespace Bowline.Proxy.RateLimit;

/// <summary>
/// Every token bucket by where it is configured (a listener or a route) and its config, kept across config pushes so a
/// push that leaves a rate limit as it was does not refill it; a changed limit gets a new, full bucket. Looked up at
/// config compile time, never per request.
/// </summary>
internal sealed class RateLimitBuckets(TimeProvider time)
{
    private readonly ConcurrentDictionary<(string Scope, LocalRateLimit Config), TokenBucket> _buckets = new();

    public TokenBucket Get(string scope, LocalRateLimit config) =>
        _buckets.GetOrAdd((scope, config), static (key, t) => new TokenBucket(key.Config.Name ?? key.Scope, key.Config, t), time);

    /// <summary>Forgets the buckets a newly applied config no longer uses.</summary>
    public void Retain(IReadOnlySet<TokenBucket> used)
    {
        foreach (var (key, bucket) in _buckets)
        {
            if (!used.Contains(bucket))
            {
                _buckets.TryRemove(key, out _);
            }
        }
    }

    /// <summary>(scope, bucket) pairs for the admin endpoint's counters.</summary>
    public IEnumerable<(string Scope, TokenBucket Bucket)> All() =>
        _buckets.OrderBy(kv => kv.Key.Scope, StringComparer.Ordinal).Select(kv => (kv.Key.Scope, kv.Value));

    /// <exception cref="Config.ConfigException">The limit is out of Envoy's ranges.</exception>
    public static void Check(LocalRateLimit config, string where)
    {
        if (config.MaxTokens is < 1 or > uint.MaxValue)
        {
            throw new Config.ConfigException($"{where}: rate limit maxTokens must be 1-{uint.MaxValue}");
        }

        if (config.TokensPerFill is < 1 or > uint.MaxValue)
        {
            throw new Config.ConfigException($"{where}: rate limit tokensPerFill must be 1-{uint.MaxValue}");
        }

        if (config.FillInterval < TimeSpan.FromMilliseconds(50))
        {
            throw new Config.ConfigException($"{where}: rate limit fillInterval must be at least 50ms");
        }
    }
}
