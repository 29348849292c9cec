using System.Collections.Frozen;

namespace Bowline.Proxy.Routing;

/// <summary>
/// A route table with its domains indexed: exact domains in a case-insensitive dictionary, wildcards in lists, so
/// choosing the virtual host costs one lookup plus a scan of the (few) wildcards. Among equally specific matches the
/// contract's rule — the first virtual host in order — is kept by comparing indexes.
/// </summary>
internal sealed class CompiledRouteTable
{
    private readonly CompiledVirtualHost[] _hosts;
    private readonly FrozenDictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _exact;
    private readonly (string Suffix, int Index)[] _suffixes;
    private readonly (string Prefix, int Index)[] _prefixes;
    private readonly int _star;

    public CompiledRouteTable(string name, CompiledVirtualHost[] hosts, IReadOnlyList<IReadOnlyList<string>> domains)
    {
        Name = name;
        _hosts = hosts;
        var exact = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var suffixes = new List<(string, int)>();
        var prefixes = new List<(string, int)>();
        _star = int.MaxValue;
        for (var i = 0; i < hosts.Length; i++)
        {
            foreach (var domain in domains[i])
            {
                if (domain == "*")
                {
                    _star = Math.Min(_star, i);
                }
                else if (domain.StartsWith('*'))
                {
                    suffixes.Add((domain[1..], i));
                }
                else if (domain.EndsWith('*'))
                {
                    prefixes.Add((domain[..^1], i));
                }
                else
                {
                    exact.TryAdd(domain, i);
                }
            }
        }

        _exact = exact.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase).GetAlternateLookup<ReadOnlySpan<char>>();
        _suffixes = [.. suffixes];
        _prefixes = [.. prefixes];
    }

    public string Name { get; }

    /// <summary>
    /// The virtual host for an authority: the first (in order) whose exact or wildcard domain matches the whole
    /// authority; failing that, "host" alone when the authority is "host:port" (Envoy's strip-port behaviour, so a
    /// gateway's "bookinfo.example.com" also answers "bookinfo.example.com:8080"); failing that, a "*" host.
    /// "reviews:9090" thus prefers a host naming that port over an earlier one that only names "reviews".
    /// </summary>
    public CompiledVirtualHost? FindVirtualHost(ReadOnlySpan<char> authority)
    {
        var index = Find(authority);
        if (index == int.MaxValue)
        {
            var colon = authority.LastIndexOf(':');
            if (colon > 0 && authority.LastIndexOf(']') < colon)
            {
                index = Find(authority[..colon]);
            }
        }

        index = Math.Min(index, _star);
        return index == int.MaxValue ? null : _hosts[index];
    }

    private int Find(ReadOnlySpan<char> authority)
    {
        var best = _exact.TryGetValue(authority, out var exactIndex) ? exactIndex : int.MaxValue;
        foreach (var (suffix, index) in _suffixes)
        {
            if (index < best && authority.Length > suffix.Length && authority.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                best = index;
            }
        }

        foreach (var (prefix, index) in _prefixes)
        {
            if (index < best && authority.Length > prefix.Length && authority.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                best = index;
            }
        }

        return best;
    }
}
