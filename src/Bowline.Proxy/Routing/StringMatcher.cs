using System.Text.RegularExpressions;
using Bowline.Api.Xds;
using Bowline.Proxy.Config;

namespace Bowline.Proxy.Routing;

/// <summary>A <see cref="StringMatch"/> compiled once per config: regexes are anchored (full match, as in Envoy/RE2).</summary>
internal sealed class StringMatcher
{
    // Regexes run on untrusted request data: a timeout bounds catastrophic backtracking.
    private static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(100);

    private readonly string? _exact;
    private readonly string? _prefix;
    private readonly Regex? _regex;
    private readonly StringComparison _comparison;

    private StringMatcher(string? exact, string? prefix, Regex? regex, bool ignoreCase)
    {
        _exact = exact;
        _prefix = prefix;
        _regex = regex;
        _comparison = ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
    }

    /// <summary>True when the match only asks for the value to be present.</summary>
    public bool IsPresenceOnly => _exact is null && _prefix is null && _regex is null;

    /// <exception cref="ConfigException">The match sets more than one kind or the regex does not compile.</exception>
    public static StringMatcher Compile(StringMatch match, bool ignoreCase, string where)
    {
        var kinds = (match.Exact is null ? 0 : 1) + (match.Prefix is null ? 0 : 1) + (match.Regex is null ? 0 : 1);
        if (kinds > 1)
        {
            throw new ConfigException($"{where}: a string match sets more than one of exact, prefix, regex");
        }

        Regex? regex = null;
        if (match.Regex is not null)
        {
            var options = RegexOptions.CultureInvariant | RegexOptions.Compiled | (ignoreCase ? RegexOptions.IgnoreCase : RegexOptions.None);
            try
            {
                regex = new Regex($"^(?:{match.Regex})$", options, RegexTimeout);
            }
            catch (ArgumentException e)
            {
                throw new ConfigException($"{where}: bad regex '{match.Regex}': {e.Message}");
            }
        }

        return new StringMatcher(match.Exact, match.Prefix, regex, ignoreCase);
    }

    public bool IsMatch(ReadOnlySpan<char> value)
    {
        if (_exact is not null)
        {
            return value.Equals(_exact, _comparison);
        }

        if (_prefix is not null)
        {
            return value.StartsWith(_prefix, _comparison);
        }

        if (_regex is not null)
        {
            try
            {
                return _regex.IsMatch(value);
            }
            catch (RegexMatchTimeoutException)
            {
                return false;
            }
        }

        return true;
    }
}
