using System.Collections.Immutable;
using Bowline.Api.Xds;

namespace Bowline.Proxy.Tests.Infrastructure;

/// <summary>Small builders for the configs tests push.</summary>
internal static class Configs
{
    public static Cluster Cluster(string name, params int[] ports) => new()
    {
        Name = name,
        Endpoints = [.. ports.Select(p => new Endpoint { Address = "127.0.0.1", Port = p })],
    };

    public static Cluster Http2Cluster(string name, params int[] ports) => Cluster(name, ports) with { Protocol = UpstreamProtocol.Http2 };

    public static Route Route(string cluster, params RouteMatch[] matches) => new()
    {
        Name = "to-" + cluster,
        Matches = [.. matches],
        Destinations = [new WeightedCluster { Cluster = cluster }],
    };

    public static VirtualHost Host(string name, string[] domains, params Route[] routes) => new()
    {
        Name = name,
        Domains = [.. domains],
        Routes = [.. routes],
    };

    public static RouteTable Table(string name, params VirtualHost[] hosts) => new() { Name = name, VirtualHosts = [.. hosts] };

    public static Listener Outbound(string name = "outbound", string table = "outbound", int port = 0) =>
        new() { Name = name, Kind = ListenerKind.Outbound, Address = "127.0.0.1", Port = port, RouteTable = table };

    public static Listener Inbound(string name, string cluster, int port = 0) =>
        new() { Name = name, Kind = ListenerKind.Inbound, Address = "127.0.0.1", Port = port, Cluster = cluster };

    public static ProxyConfig ConfigOf(IEnumerable<Listener> listeners, IEnumerable<RouteTable> tables, IEnumerable<Cluster> clusters) => new()
    {
        Listeners = [.. listeners],
        RouteTables = [.. tables],
        Clusters = [.. clusters],
    };

    public static StringMatch Exact(string value) => new() { Exact = value };

    public static StringMatch Prefix(string value) => new() { Prefix = value };

    public static StringMatch Regex(string value) => new() { Regex = value };

    public static ImmutableDictionary<string, StringMatch> Headers(params (string Name, StringMatch Match)[] headers) =>
        headers.ToImmutableDictionary(h => h.Name, h => h.Match);
}
