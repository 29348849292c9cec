using System.Collections.Immutable;
using Bowline.Api.Xds;

namespace Bowline.Proxy.Routing;

/// <summary>One <see cref="RouteMatch"/> compiled: every set condition must hold.</summary>
internal sealed class CompiledRouteMatch
{
    private readonly StringMatcher? _uri;
    private readonly StringMatcher? _method;
    private readonly StringMatcher? _authority;
    private readonly StringMatcher? _scheme;
    private readonly HeaderMatcher[] _headers;
    private readonly HeaderMatcher[] _withoutHeaders;
    private readonly HeaderMatcher[] _queryParams;
    private readonly int? _port;

    public CompiledRouteMatch(RouteMatch match, string where)
    {
        _uri = match.Uri is null ? null : StringMatcher.Compile(match.Uri, match.IgnoreUriCase, where + " uri");
        _method = match.Method is null ? null : StringMatcher.Compile(match.Method, ignoreCase: false, where + " method");
        _authority = match.Authority is null ? null : StringMatcher.Compile(match.Authority, ignoreCase: true, where + " authority");
        _scheme = match.Scheme is null ? null : StringMatcher.Compile(match.Scheme, ignoreCase: true, where + " scheme");
        _headers = CompileAll(match.Headers, where + " header");
        _withoutHeaders = CompileAll(match.WithoutHeaders, where + " withoutHeader");
        _queryParams = CompileAll(match.QueryParams, where + " queryParam");
        _port = match.Port;
    }

    public bool IsMatch(in RequestFacts request)
    {
        if (_port is { } port && port != request.Port)
        {
            return false;
        }

        if (_uri is not null && !_uri.IsMatch(request.Path))
        {
            return false;
        }

        if (_method is not null && !_method.IsMatch(request.Request.Method))
        {
            return false;
        }

        if (_authority is not null && !_authority.IsMatch(request.Authority))
        {
            return false;
        }

        // Only cleartext listeners exist, so the scheme is always http.
        if (_scheme is not null && !_scheme.IsMatch("http"))
        {
            return false;
        }

        foreach (var header in _headers)
        {
            if (!header.MatchesHeader(request.Request))
            {
                return false;
            }
        }

        foreach (var header in _withoutHeaders)
        {
            if (header.MatchesHeader(request.Request))
            {
                return false;
            }
        }

        foreach (var query in _queryParams)
        {
            if (!query.MatchesQuery(request.Request))
            {
                return false;
            }
        }

        return true;
    }

    private static HeaderMatcher[] CompileAll(ImmutableDictionary<string, StringMatch> matches, string where)
    {
        if (matches.Count == 0)
        {
            return [];
        }

        var compiled = new HeaderMatcher[matches.Count];
        var i = 0;
        foreach (var (name, match) in matches.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            compiled[i++] = new HeaderMatcher(name, StringMatcher.Compile(match, ignoreCase: false, $"{where} '{name}'"));
        }

        return compiled;
    }
}
