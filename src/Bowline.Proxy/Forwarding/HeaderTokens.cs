namespace Bowline.Proxy.Forwarding;

/// <summary>
/// Comma-separated field values (Connection, Transfer-Encoding; RFC 9110 §5.6.1): tokens compared case-insensitively,
/// optional whitespace around each, empty elements ignored.
/// </summary>
internal static class HeaderTokens
{
    /// <summary>Whether <paramref name="value"/> lists <paramref name="token"/>.</summary>
    public static bool Lists(ReadOnlySpan<char> value, string token)
    {
        foreach (var range in value.Split(','))
        {
            if (value[range].Trim(" \t").Equals(token, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="value"/> lists a token that is none of <paramref name="known"/>.</summary>
    public static bool ListsOtherThan(ReadOnlySpan<char> value, params ReadOnlySpan<string> known)
    {
        foreach (var range in value.Split(','))
        {
            var token = value[range].Trim(" \t");
            if (token.Length > 0 && !IsOneOf(token, known))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsOneOf(ReadOnlySpan<char> token, ReadOnlySpan<string> known)
    {
        foreach (var k in known)
        {
            if (token.Equals(k, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
