namespace Bowline.ControlPlane.Generation;

internal static class HostMatch
{
    /// <summary>Whether <paramref name="pattern"/> ("*", "*.example.com" or exact) covers <paramref name="host"/>
    /// (which may itself be a narrower wildcard).</summary>
    public static bool Covers(string pattern, string host)
    {
        if (pattern == "*")
        {
            return true;
        }

        if (pattern.StartsWith("*.", StringComparison.Ordinal))
        {
            var suffix = pattern[1..];
            return host.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) && host.Length > suffix.Length;
        }

        return string.Equals(pattern, host, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Order of virtual hosts: exact domains first, then suffix wildcards (longest first), then "*".</summary>
    public static (int Rank, int Length) Specificity(IEnumerable<string> domains)
    {
        var rank = 0;
        var len = int.MaxValue;
        foreach (var d in domains)
        {
            if (d == "*")
            {
                rank = Math.Max(rank, 2);
            }
            else if (d.StartsWith('*'))
            {
                rank = Math.Max(rank, 1);
                len = Math.Min(len, d.Length);
            }
        }

        return (rank, rank == 1 ? -len : 0);
    }
}
