using System.Net;
using Bowline.Api.Xds;
using Bowline.Proxy.Config;
using Bowline.Proxy.LoadBalancing;

namespace Bowline.Proxy.Listeners.Tcp;

/// <summary>A TCP / TLS route ready for connections: its matches and its weighted clusters.</summary>
internal sealed class CompiledTcpRoute
{
    private readonly CompiledTcpMatch[] _matches;

    private CompiledTcpRoute(string? name, CompiledTcpMatch[] matches, WeightedClusterPicker picker)
    {
        Name = name;
        _matches = matches;
        Picker = picker;
    }

    public string? Name { get; }

    public WeightedClusterPicker Picker { get; }

    /// <summary>Whether SNI matters to some match (then a Tls listener must have read the ClientHello).</summary>
    public bool UsesSni => _matches.Any(m => m.UsesSni);

    public bool Matches(string? sni, IPAddress? local)
    {
        if (_matches.Length == 0)
        {
            return true;
        }

        foreach (var m in _matches)
        {
            if (m.Matches(sni, local))
            {
                return true;
            }
        }

        return false;
    }

    /// <exception cref="ConfigException">Unknown cluster, bad weight, SNI name or subnet.</exception>
    public static CompiledTcpRoute Compile(TcpRoute route, string where, IReadOnlyDictionary<string, CompiledCluster> clusters)
    {
        if (route.Destinations.IsDefaultOrEmpty)
        {
            throw new ConfigException($"{where}: a TCP route needs destinations");
        }

        var destinations = new List<(CompiledCluster, int)>(route.Destinations.Length);
        var total = 0;
        foreach (var d in route.Destinations)
        {
            if (!clusters.TryGetValue(d.Cluster, out var cluster))
            {
                throw new ConfigException($"{where}: unknown cluster '{d.Cluster}'");
            }

            if (d.Weight < 0)
            {
                throw new ConfigException($"{where}: negative weight for cluster '{d.Cluster}'");
            }

            total += d.Weight;
            destinations.Add((cluster, d.Weight));
        }

        if (total <= 0 && destinations.Count > 1)
        {
            throw new ConfigException($"{where}: weights sum to 0");
        }

        var matches = route.Matches.IsDefault ? [] : route.Matches.Select((m, i) => CompiledTcpMatch.Compile(m, $"{where} match {i}")).ToArray();
        return new CompiledTcpRoute(route.Name, matches, new WeightedClusterPicker(destinations));
    }
}

/// <summary>One TCP match: SNI names (exact or "*.suffix") and destination subnets; each empty list matches anything.</summary>
internal sealed class CompiledTcpMatch
{
    private readonly string[] _exact;
    // ".example.com" for "*.example.com": any name ending in it (one label or more before, as Envoy's server_names).
    private readonly string[] _suffixes;
    private readonly bool _anySni;
    private readonly IPNetwork[] _subnets;

    private CompiledTcpMatch(string[] exact, string[] suffixes, bool anySni, IPNetwork[] subnets)
    {
        _exact = exact;
        _suffixes = suffixes;
        _anySni = anySni;
        _subnets = subnets;
    }

    public bool UsesSni => !_anySni;

    public bool Matches(string? sni, IPAddress? local) => SniMatches(sni) && SubnetMatches(local);

    private bool SniMatches(string? sni)
    {
        if (_anySni)
        {
            return true;
        }

        if (string.IsNullOrEmpty(sni))
        {
            return false;
        }

        foreach (var e in _exact)
        {
            if (e.Equals(sni, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        foreach (var s in _suffixes)
        {
            if (sni.Length > s.Length && sni.EndsWith(s, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private bool SubnetMatches(IPAddress? local)
    {
        if (_subnets.Length == 0)
        {
            return true;
        }

        if (local is null)
        {
            return false;
        }

        if (local.IsIPv4MappedToIPv6)
        {
            local = local.MapToIPv4();
        }

        foreach (var n in _subnets)
        {
            if (n.Contains(local))
            {
                return true;
            }
        }

        return false;
    }

    public static CompiledTcpMatch Compile(TcpRouteMatch match, string where)
    {
        var exact = new List<string>();
        var suffixes = new List<string>();
        var any = match.SniHosts.IsDefaultOrEmpty;
        foreach (var host in match.SniHosts.IsDefault ? [] : match.SniHosts)
        {
            if (host == "*")
            {
                any = true;
            }
            else if (host.StartsWith("*.", StringComparison.Ordinal) && host.Length > 2 && !host[2..].Contains('*', StringComparison.Ordinal))
            {
                suffixes.Add(host[1..]);
            }
            else if (host.Length > 0 && !host.Contains('*', StringComparison.Ordinal))
            {
                exact.Add(host);
            }
            else
            {
                throw new ConfigException($"{where}: bad SNI host '{host}'");
            }
        }

        var subnets = new List<IPNetwork>();
        foreach (var cidr in match.DestinationSubnets.IsDefault ? [] : match.DestinationSubnets)
        {
            subnets.Add(ParseSubnet(cidr) ?? throw new ConfigException($"{where}: bad destination subnet '{cidr}'"));
        }

        return new CompiledTcpMatch([.. exact], [.. suffixes], any, [.. subnets]);
    }

    /// <summary>"10.0.0.0/8", or a bare address meaning just that host (as Istio accepts).</summary>
    internal static IPNetwork? ParseSubnet(string text)
    {
        if (IPNetwork.TryParse(text, out var network))
        {
            return network;
        }

        return IPAddress.TryParse(text, out var ip) ? new IPNetwork(ip, ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128) : null;
    }
}
