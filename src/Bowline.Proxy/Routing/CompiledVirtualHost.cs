namespace Bowline.Proxy.Routing;

internal sealed class CompiledVirtualHost(string name, CompiledRoute[] routes)
{
    public string Name { get; } = name;

    /// <summary>The first route that matches (VirtualService order), or null.</summary>
    public CompiledRoute? FindRoute(in RequestFacts request) => FindRoute(request, out _);

    /// <param name="matchIndex">Which of the route's matches matched (-1: the route has none).</param>
    public CompiledRoute? FindRoute(in RequestFacts request, out int matchIndex)
    {
        foreach (var route in routes)
        {
            if (route.TryMatch(request, out matchIndex))
            {
                return route;
            }
        }

        matchIndex = -1;
        return null;
    }
}
