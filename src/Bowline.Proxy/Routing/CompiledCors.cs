using System.Globalization;
using Bowline.Api.Xds;
using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Routing;

/// <summary>A route's CORS policy (Envoy's CORS filter): header values joined once at config time.</summary>
internal sealed class CompiledCors
{
    private readonly StringMatcher[] _origins;
    private readonly string? _allowMethods;
    private readonly string? _allowHeaders;
    private readonly string? _exposeHeaders;
    private readonly string? _maxAge;
    private readonly bool _allowCredentials;

    private CompiledCors(CorsPolicy policy, StringMatcher[] origins)
    {
        _origins = origins;
        _allowMethods = Join(policy.AllowMethods);
        _allowHeaders = Join(policy.AllowHeaders);
        _exposeHeaders = Join(policy.ExposeHeaders);
        _maxAge = policy.MaxAge is { } age ? ((long)age.TotalSeconds).ToString(CultureInfo.InvariantCulture) : null;
        _allowCredentials = policy.AllowCredentials;
    }

    /// <exception cref="Config.ConfigException">An origin match that does not compile.</exception>
    public static CompiledCors? Compile(CorsPolicy? policy, string where)
    {
        if (policy is null)
        {
            return null;
        }

        var origins = new StringMatcher[policy.AllowOrigins.IsDefault ? 0 : policy.AllowOrigins.Length];
        for (var i = 0; i < origins.Length; i++)
        {
            origins[i] = StringMatcher.Compile(policy.AllowOrigins[i], ignoreCase: false, $"{where} cors origin {i}");
        }

        return new CompiledCors(policy, origins);
    }

    /// <summary>The request's Origin when the policy allows it, else null (then the request gets no CORS headers).</summary>
    public string? AllowedOrigin(HttpRequest request)
    {
        var origin = request.Headers.Origin;
        if (origin.Count != 1 || string.IsNullOrEmpty(origin[0]))
        {
            return null;
        }

        foreach (var matcher in _origins)
        {
            if (matcher.IsMatch(origin[0]))
            {
                return origin[0];
            }
        }

        return null;
    }

    /// <summary>A CORS preflight: OPTIONS with Origin and Access-Control-Request-Method.</summary>
    public static bool IsPreflight(HttpRequest request) =>
        HttpMethods.IsOptions(request.Method) && request.Headers.Origin.Count > 0 && request.Headers.AccessControlRequestMethod.Count > 0;

    /// <summary>The proxy's own answer to an allowed preflight.</summary>
    public void WritePreflight(HttpResponse response, string origin)
    {
        var headers = response.Headers;
        headers.AccessControlAllowOrigin = origin;
        if (_allowCredentials)
        {
            headers.AccessControlAllowCredentials = "true";
        }

        if (_allowMethods is not null)
        {
            headers.AccessControlAllowMethods = _allowMethods;
        }

        if (_allowHeaders is not null)
        {
            headers.AccessControlAllowHeaders = _allowHeaders;
        }

        if (_maxAge is not null)
        {
            headers.AccessControlMaxAge = _maxAge;
        }
    }

    /// <summary>Decorates the upstream response to an allowed actual request.</summary>
    public void DecorateResponse(IHeaderDictionary headers, string origin)
    {
        headers.AccessControlAllowOrigin = origin;
        if (_allowCredentials)
        {
            headers.AccessControlAllowCredentials = "true";
        }

        if (_exposeHeaders is not null)
        {
            headers.AccessControlExposeHeaders = _exposeHeaders;
        }
    }

    private static string? Join(System.Collections.Immutable.ImmutableArray<string> values) =>
        values.IsDefaultOrEmpty ? null : string.Join(',', values);
}
