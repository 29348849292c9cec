using Bowline.Proxy.LoadBalancing;

namespace Bowline.Proxy.Routing;

internal sealed class CompiledRoute(string? name, CompiledRouteMatch[] matches, WeightedClusterPicker destinations, TimeSpan? timeout, CompiledRetryPolicy? retries, CompiledFault? fault)
{
    public string? Name { get; } = name;
    public WeightedClusterPicker Destinations { get; } = destinations;
    public TimeSpan? Timeout { get; } = timeout;
    public CompiledRetryPolicy? Retries { get; } = retries;
    public CompiledFault? Fault { get; } = fault;

    public bool IsMatch(in RequestFacts request)
    {
        if (matches.Length == 0)
        {
            return true;
        }

        foreach (var match in matches)
        {
            if (match.IsMatch(request))
            {
                return true;
            }
        }

        return false;
    }
}
