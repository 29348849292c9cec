using Bowline.Api.Xds;

namespace Bowline.Proxy.Routing;

/// <summary>A route's or destination's header edits, both directions.</summary>
internal sealed class CompiledHeaderPolicy(CompiledHeaderOperations? request, CompiledHeaderOperations? response)
{
    public CompiledHeaderOperations? Request { get; } = request;
    /// <summary>Applied to upstream responses only, not to the proxy's own replies.</summary>
    public CompiledHeaderOperations? Response { get; } = response;

    public static CompiledHeaderPolicy? Compile(HeaderPolicy? policy, string where)
    {
        if (policy is null)
        {
            return null;
        }

        var request = CompiledHeaderOperations.Compile(policy.Request, where + " request headers");
        var response = CompiledHeaderOperations.Compile(policy.Response, where + " response headers");
        return request is null && response is null ? null : new CompiledHeaderPolicy(request, response);
    }
}
