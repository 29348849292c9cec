using Bowline.Api.Xds;
using RHeaders = Bowline.Api.Resources.Headers;
using RHeaderOperations = Bowline.Api.Resources.HeaderOperations;
using XHeaderOperations = Bowline.Api.Xds.HeaderOperations;

namespace Bowline.ControlPlane.Generation;

/// <summary>Translates VirtualService <c>headers</c> (route- or destination-level) into the pushed <see cref="HeaderPolicy"/>.</summary>
internal static class HeaderPolicyBuilder
{
    public static HeaderPolicy? Build(RHeaders? headers)
    {
        if (headers is null)
        {
            return null;
        }

        var request = Operations(headers.Request);
        var response = Operations(headers.Response);
        return request is null && response is null ? null : new HeaderPolicy { Request = request, Response = response };
    }

    // Header names are case-insensitive; lower case (as HTTP/2 sends them) keeps the pushed config canonical.
    private static XHeaderOperations? Operations(RHeaderOperations? ops) =>
        ops is null || (ops.Set.Count == 0 && ops.Add.Count == 0 && ops.Remove.Count == 0) ? null : new XHeaderOperations
        {
            Set = StableDictionary.From(ops.Set, k => k.ToLowerInvariant(), v => v),
            Add = StableDictionary.From(ops.Add, k => k.ToLowerInvariant(), v => v),
            Remove = [.. ops.Remove.Select(n => n.ToLowerInvariant()).Distinct(StringComparer.Ordinal)],
        };
}
