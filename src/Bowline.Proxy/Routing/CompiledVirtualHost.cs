namespace Bowline.Proxy.Routing;

internal sealed class CompiledVirtualHost(string name, CompiledRoute[] routes)
{
    public string Name { get; } = name;

    /// <summary>The first route that matches (VirtualService order), or null.</summary>
    public CompiledRoute? FindRoute(in RequestFacts request)
    {
        foreach (var route in routes)
        {
            if (route.IsMatch(request))
            {
                return route;
            }
        }

        return null;
    }
}
