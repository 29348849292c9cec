using Bowline.Api.Xds;
using RCorsPolicy = Bowline.Api.Resources.CorsPolicy;
using XCorsPolicy = Bowline.Api.Xds.CorsPolicy;

namespace Bowline.ControlPlane.Generation;

/// <summary>Translates a VirtualService route's <c>corsPolicy</c> as Istio does for Envoy's CORS filter.</summary>
internal static class CorsBuilder
{
    public static XCorsPolicy? Build(RCorsPolicy? cors, string where, List<string> notes)
    {
        if (cors is null)
        {
            return null;
        }

        // Istio: allowOrigins wins; the deprecated allowOrigin list is exact matches, where "*" allows any origin.
        var origins = cors.AllowOrigins.Count > 0
            ? cors.AllowOrigins.Select(o => new StringMatch { Exact = o.Exact, Prefix = o.Prefix, Regex = o.Regex })
            : cors.AllowOrigin.Select(o => o == "*" ? new StringMatch { Prefix = "" } : new StringMatch { Exact = o });
        if (cors.UnmatchedPreflights is { } unmatched && !unmatched.Equals("FORWARD", StringComparison.OrdinalIgnoreCase)
            && !unmatched.Equals("UNSPECIFIED", StringComparison.OrdinalIgnoreCase))
        {
            notes.Add($"{where}: corsPolicy.unmatchedPreflights {unmatched} not supported; unmatched preflights are forwarded");
        }

        return new XCorsPolicy
        {
            AllowOrigins = [.. origins],
            AllowMethods = [.. cors.AllowMethods],
            AllowHeaders = [.. cors.AllowHeaders],
            ExposeHeaders = [.. cors.ExposeHeaders],
            MaxAge = cors.MaxAge,
            AllowCredentials = cors.AllowCredentials ?? false,
        };
    }
}
