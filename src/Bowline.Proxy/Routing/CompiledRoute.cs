using Bowline.Proxy.LoadBalancing;

namespace Bowline.Proxy.Routing;

/// <summary>
/// One route, ready for requests. Exactly one action is set: <see cref="Destinations"/>, <see cref="Redirect"/> or
/// <see cref="DirectResponse"/> (the compiler checks it).
/// </summary>
internal sealed class CompiledRoute(string? name, CompiledRouteMatch[] matches, WeightedClusterPicker? destinations, TimeSpan? timeout, CompiledRetryPolicy? retries, CompiledFault? fault)
{
    public string? Name { get; } = name;
    public WeightedClusterPicker? Destinations { get; } = destinations;
    /// <summary>Header edits per destination, by the picker's index; an entry is null when that destination has none.</summary>
    public CompiledHeaderPolicy?[] DestinationHeaders { get; init; } = [];
    public TimeSpan? Timeout { get; } = timeout;
    public CompiledRetryPolicy? Retries { get; } = retries;
    public CompiledFault? Fault { get; } = fault;
    public CompiledRedirect? Redirect { get; init; }
    public CompiledDirectResponse? DirectResponse { get; init; }
    public CompiledRewrite? Rewrite { get; init; }
    public CompiledHeaderPolicy? Headers { get; init; }
    public CompiledCors? Cors { get; init; }
    /// <summary>Mirror policies, in order; empty for most routes, so the request path skips mirroring at once.</summary>
    public CompiledMirror[] Mirrors { get; init; } = [];
    /// <summary>The route's own local rate limit bucket, used instead of the listener's; null when it has none.</summary>
    public RateLimit.TokenBucket? RateLimit { get; init; }

    public bool IsMatch(in RequestFacts request) => TryMatch(request, out _);

    /// <param name="matchIndex">Which match matched; -1 when the route has none (it matches everything).</param>
    public bool TryMatch(in RequestFacts request, out int matchIndex)
    {
        matchIndex = -1;
        if (matches.Length == 0)
        {
            return true;
        }

        for (var i = 0; i < matches.Length; i++)
        {
            if (matches[i].IsMatch(request))
            {
                matchIndex = i;
                return true;
            }
        }

        return false;
    }
}
