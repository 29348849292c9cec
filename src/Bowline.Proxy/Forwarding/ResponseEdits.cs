using Bowline.Proxy.Routing;
using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Forwarding;

/// <summary>What the route does to an upstream response's headers: destination edits, route edits, then CORS.</summary>
internal readonly record struct ResponseEdits(CompiledHeaderOperations? Destination, CompiledHeaderOperations? Route, CompiledCors? Cors, string? CorsOrigin)
{
    public void Apply(IHeaderDictionary headers)
    {
        // Envoy's default order: most specific (destination) first, so the route's set wins.
        Destination?.Apply(headers);
        Route?.Apply(headers);
        if (CorsOrigin is not null)
        {
            Cors?.DecorateResponse(headers, CorsOrigin);
        }
    }
}
