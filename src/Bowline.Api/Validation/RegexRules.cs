using System.Text.RegularExpressions;

namespace Bowline.Api.Validation;

/// <summary>
/// Istio's regexes run in Envoy's RE2, which has no backreferences, lookaround or atomic groups. .NET would accept
/// them, so they are refused here explicitly: a config that validates must also run in a real mesh.
/// </summary>
internal static class RegexRules
{
    public static string? Problem(string pattern)
    {
        try
        {
            // RE2 (and Go) spell named groups (?P<name>...); .NET knows only (?<name>...), which means the same.
            _ = new Regex(pattern.Replace("(?P<", "(?<", StringComparison.Ordinal), RegexOptions.None, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
        return Re2Unsupported(pattern);
    }

    private static string? Re2Unsupported(string pattern)
    {
        var inClass = false;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                var next = pattern[++i];
                if (!inClass && (next is >= '1' and <= '9' || next == 'k'))
                {
                    return "backreferences are not supported (RE2 syntax)";
                }
                continue;
            }
            if (inClass)
            {
                inClass = c != ']';
                continue;
            }
            if (c == '[')
            {
                inClass = true;
                // A ']' right after '[' or '[^' is a literal, not the end of the class.
                if (i + 1 < pattern.Length && pattern[i + 1] == '^') i++;
                if (i + 1 < pattern.Length && pattern[i + 1] == ']') i++;
                continue;
            }
            if (c == '(' && i + 2 < pattern.Length && pattern[i + 1] == '?')
            {
                var rest = pattern.AsSpan(i + 2);
                if (rest.StartsWith("=") || rest.StartsWith("!") || rest.StartsWith("<=") || rest.StartsWith("<!"))
                {
                    return "lookaround assertions are not supported (RE2 syntax)";
                }
                if (rest.StartsWith(">"))
                {
                    return "atomic groups are not supported (RE2 syntax)";
                }
            }
        }
        return null;
    }
}
