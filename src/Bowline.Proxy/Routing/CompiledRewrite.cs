using System.Text;
using System.Text.RegularExpressions;
using Bowline.Api.Xds;
using Bowline.Proxy.Config;

namespace Bowline.Proxy.Routing;

/// <summary>
/// A route's path and authority rewrite. <c>uri</c> is Envoy's prefix_rewrite, as Istio translates it: it replaces
/// the matched prefix when the request matched a uri prefix — a match without a uri (or a route without matches) is
/// Istio's prefix "/" — and the whole path after an exact or regex match. <c>uriRegex</c> replaces every match in
/// the path (RE2 GlobalReplace). The query is never touched.
/// </summary>
internal sealed class CompiledRewrite
{
    private static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(100);

    private readonly string? _uri;
    // Per route match: the length of its uri prefix, or -1 when it matched the whole path (exact, regex).
    private readonly int[] _prefixLengths;
    private readonly Regex? _regex;
    private readonly string? _replacement;

    private CompiledRewrite(string? uri, int[] prefixLengths, Regex? regex, string? replacement, string? authority)
    {
        _uri = uri;
        _prefixLengths = prefixLengths;
        _regex = regex;
        _replacement = replacement;
        Authority = authority;
    }

    /// <summary>The Host sent upstream instead of the request's; null keeps it.</summary>
    public string? Authority { get; }

    public bool RewritesPath => _uri is not null || _regex is not null;

    /// <exception cref="ConfigException">Both uri and uriRegex, or a regex that does not compile.</exception>
    public static CompiledRewrite? Compile(RewritePolicy? rewrite, IReadOnlyList<RouteMatch> matches, string where)
    {
        if (rewrite is null)
        {
            return null;
        }

        if (rewrite.Uri is not null && rewrite.UriRegex is not null)
        {
            throw new ConfigException($"{where}: rewrite sets both uri and uriRegex");
        }

        var prefixLengths = new int[matches.Count];
        for (var i = 0; i < prefixLengths.Length; i++)
        {
            prefixLengths[i] = matches[i].Uri is { } uri ? uri.Prefix?.Length ?? -1 : 1;
        }

        Regex? regex = null;
        string? replacement = null;
        if (rewrite.UriRegex is { } r)
        {
            try
            {
                regex = new Regex(r.Match, RegexOptions.CultureInvariant | RegexOptions.Compiled, RegexTimeout);
            }
            catch (ArgumentException e)
            {
                throw new ConfigException($"{where}: bad rewrite regex '{r.Match}': {e.Message}");
            }

            replacement = ToDotNetReplacement(r.Rewrite);
        }

        return new CompiledRewrite(rewrite.Uri, prefixLengths, regex, replacement, rewrite.Authority);
    }

    /// <summary>The target with its path rewritten.</summary>
    /// <param name="target">"/path?query".</param>
    /// <param name="matchIndex">Which of the route's matches matched (-1: the route has none, i.e. prefix "/").</param>
    public string RewriteTarget(string target, int matchIndex)
    {
        var q = target.IndexOf('?', StringComparison.Ordinal);
        var path = q < 0 ? target.AsSpan() : target.AsSpan(0, q);
        var query = q < 0 ? ReadOnlySpan<char>.Empty : target.AsSpan(q);
        if (_uri is not null)
        {
            var prefix = matchIndex >= 0 ? _prefixLengths[matchIndex] : 1;
            return prefix >= 0 && prefix <= path.Length
                ? string.Concat(_uri, path[prefix..], query)
                : string.Concat(_uri, query);
        }

        if (_regex is not null)
        {
            try
            {
                return string.Concat(_regex.Replace(path.ToString(), _replacement!), query);
            }
            catch (RegexMatchTimeoutException)
            {
                return target;
            }
        }

        return target;
    }

    // RE2 substitutions name groups \0..\9; .NET names them $0..$9 and needs a literal '$' doubled.
    private static string ToDotNetReplacement(string rewrite)
    {
        var sb = new StringBuilder(rewrite.Length + 4);
        for (var i = 0; i < rewrite.Length; i++)
        {
            var c = rewrite[i];
            if (c == '\\' && i + 1 < rewrite.Length && char.IsAsciiDigit(rewrite[i + 1]))
            {
                sb.Append("${").Append(rewrite[++i]).Append('}');
            }
            else if (c == '\\' && i + 1 < rewrite.Length && rewrite[i + 1] == '\\')
            {
                sb.Append('\\');
                i++;
            }
            else
            {
                sb.Append(c == '$' ? "$$" : c.ToString());
            }
        }

        return sb.ToString();
    }
}
