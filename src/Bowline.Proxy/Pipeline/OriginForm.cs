using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Bowline.Proxy.Pipeline;

/// <summary>
/// The request target as the upstream must see it: origin-form, as the client encoded it — or the asterisk-form of a
/// server-wide "OPTIONS *", which names no resource and goes upstream as it came.
/// </summary>
internal static class OriginForm
{
    /// <summary>The target of "OPTIONS * HTTP/1.1" (RFC 9112 §3.2.4); Kestrel refuses it with any other method.</summary>
    public const string Asterisk = "*";

    /// <summary>
    /// "/path?query". Requests through HTTP_PROXY arrive in absolute-form ("http://reviews:9080/reviews/0"); their
    /// authority is already the Host (Kestrel checks that), so only the path and query go upstream.
    /// </summary>
    public static string Get(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (!string.IsNullOrEmpty(raw))
        {
            if (raw[0] == '/')
            {
                return raw;
            }

            if (raw == Asterisk)
            {
                return Asterisk;
            }

            var schemeEnd = raw.IndexOf("://", StringComparison.Ordinal);
            if (schemeEnd > 0)
            {
                var pathStart = raw.AsSpan(schemeEnd + 3).IndexOfAny('/', '?');
                return pathStart < 0 ? "/"
                    : raw[schemeEnd + 3 + pathStart] == '?' ? string.Concat("/", raw.AsSpan(schemeEnd + 3 + pathStart))
                    : raw[(schemeEnd + 3 + pathStart)..];
            }
        }

        // Anything else: rebuild from the parsed parts.
        var request = context.Request;
        return string.Concat(request.PathBase.ToUriComponent(), request.Path.ToUriComponent(), request.QueryString.ToUriComponent()) is { Length: > 0 } s ? s : "/";
    }

    /// <summary>
    /// The path part of an origin-form target (what Envoy's path rules match). The asterisk-form is routed as "/", as it
    /// was before it was forwarded unchanged: routes keep seeing a path.
    /// </summary>
    public static ReadOnlySpan<char> PathOf(string target)
    {
        if (target == Asterisk)
        {
            return "/";
        }

        var query = target.IndexOf('?');
        return query < 0 ? target : target.AsSpan(0, query);
    }
}
