using Bowline.Api.Resources;
using Bowline.Api.Xds;
using XRegexRewrite = Bowline.Api.Xds.RegexRewrite;

namespace Bowline.ControlPlane.Generation;

/// <summary>Translates a VirtualService route's <c>redirect</c>, <c>directResponse</c> and <c>rewrite</c>, as Istio does for Envoy's route actions.</summary>
internal static class RouteActionBuilder
{
    public static RedirectAction? Redirect(HTTPRedirect? redirect) => redirect is null ? null : new RedirectAction
    {
        Uri = redirect.Uri,
        Authority = redirect.Authority,
        Port = redirect.Port,
        PortMode = redirect.DerivePort switch
        {
            RedirectPortSelection.FromProtocolDefault => RedirectPortMode.ProtocolDefault,
            RedirectPortSelection.FromRequestPort => RedirectPortMode.RequestPort,
            _ => RedirectPortMode.Keep,
        },
        Scheme = redirect.Scheme,
        // Istio's default is 301 (Envoy's MOVED_PERMANENTLY).
        Code = redirect.RedirectCode is { } code and > 0 ? code : 301,
    };

    public static DirectResponseAction? DirectResponse(HTTPDirectResponse? direct) => direct is null ? null : new DirectResponseAction
    {
        Status = direct.Status,
        Body = direct.Body?.String,
        BodyBase64 = direct.Body?.String is null ? direct.Body?.Bytes : null,
    };

    public static RewritePolicy? Rewrite(HTTPRewrite? rewrite) => rewrite is null ? null : new RewritePolicy
    {
        Uri = rewrite.Uri,
        Authority = rewrite.Authority,
        UriRegex = rewrite.UriRegexRewrite is { } r ? new XRegexRewrite { Match = r.Match, Rewrite = r.Rewrite } : null,
    };
}
