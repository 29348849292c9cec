using System.Collections.Immutable;
using System.Globalization;
using Bowline.Api.Resources;
using Bowline.Api.Xds;

namespace Bowline.ControlPlane.Generation;

/// <summary>
/// Gateway servers that carry opaque bytes, as Istio builds them: <c>protocol: TCP</c> (and MONGO, whose filter is
/// off by default) routed by the first VirtualService <c>tcp</c> route bound to the Gateway whose match fits the
/// server port; <c>protocol: TLS</c> (or HTTPS) with <c>tls.mode: PASSTHROUGH</c> routed by SNI through
/// <c>tls[].match.sniHosts</c>, bytes forwarded untouched.
/// </summary>
internal static class TcpGatewayListeners
{
    /// <summary>Whether the server is a TCP or TLS passthrough server (false: HTTP, or one the caller notes as skipped).</summary>
    public static bool Serves(Gateway gw, Server server, List<string> notes)
    {
        var protocol = Protocols.OfIstioPort(server.Port.Protocol);
        if (protocol is ServiceProtocol.Tcp or ServiceProtocol.Mongo or ServiceProtocol.Redis or ServiceProtocol.MySql)
        {
            if (server.Tls is not null)
            {
                notes.Add(Note(gw, server, "tls settings on a TCP server are ignored"));
            }

            return true;
        }

        return protocol is ServiceProtocol.Tls or ServiceProtocol.Https && server.Tls?.Mode == ServerTlsMode.Passthrough;
    }

    public static Listener Build(MeshModel mesh, int port, int boundPort, List<(Gateway Gateway, Server Server)> servers, List<string> notes)
    {
        var passthrough = servers[0].Server.Tls?.Mode == ServerTlsMode.Passthrough
            && Protocols.OfIstioPort(servers[0].Server.Port.Protocol) is ServiceProtocol.Tls or ServiceProtocol.Https;
        var same = servers.Where(s => Serves(s.Gateway, s.Server, []) && IsPassthrough(s.Server) == passthrough).ToList();
        foreach (var (gw, server) in servers.Except(same))
        {
            notes.Add(Note(gw, server, "skipped: another server on the port is " + (passthrough ? "TLS passthrough" : "TCP")));
        }

        return new Listener
        {
            Name = string.Create(CultureInfo.InvariantCulture, $"gateway|{port}"),
            Kind = ListenerKind.Gateway,
            Address = "127.0.0.1",
            Port = boundPort,
            Protocol = passthrough ? ListenerProtocol.Tls : ListenerProtocol.Tcp,
            TcpRoutes = passthrough ? TlsRoutes(mesh, port, same, notes) : TcpRoutes(mesh, port, same),
        };
    }

    private static bool IsPassthrough(Server server) => server.Tls?.Mode == ServerTlsMode.Passthrough;

    /// <summary>
    /// Istio: for a TCP server, the first tcp route (VirtualServices in creation order) whose match names this port
    /// (or none) and this Gateway (or none) takes every connection; TCP has no host to tell VirtualServices apart.
    /// </summary>
    private static ImmutableArray<TcpRoute> TcpRoutes(MeshModel mesh, int port, List<(Gateway Gateway, Server Server)> servers)
    {
        foreach (var (vs, bound) in BoundVirtualServices(mesh, servers))
        {
            var ns = vs.EffectiveNamespace;
            for (var i = 0; i < vs.Spec.Tcp.Count; i++)
            {
                var tcp = vs.Spec.Tcp[i];
                if (tcp.Match.Count == 0 || tcp.Match.Any(m => Applies(m.Port, m.Gateways, ns, port, bound)))
                {
                    return [new TcpRoute
                    {
                        Name = string.Create(CultureInfo.InvariantCulture, $"{ns}/{vs.Metadata.Name}.tcp[{i}]"),
                        Destinations = Destinations(mesh, tcp.Route, ns, port),
                    }];
                }
            }
        }

        return [];
    }

    /// <summary>
    /// Istio: a filter chain per tls match that fits this port and Gateway, on its sniHosts (a name claimed by an earlier
    /// route is dropped, as Istio drops duplicates); Envoy then picks the most specific name. Here each name becomes
    /// a route, ordered exact names first, then wildcards longest suffix first, so the proxy's first match is Envoy's.
    /// </summary>
    private static ImmutableArray<TcpRoute> TlsRoutes(MeshModel mesh, int port, List<(Gateway Gateway, Server Server)> servers, List<string> notes)
    {
        var claimed = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var routes = new List<(string Sni, TcpRoute Route)>();
        foreach (var (vs, bound) in BoundVirtualServices(mesh, servers))
        {
            var ns = vs.EffectiveNamespace;
            for (var i = 0; i < vs.Spec.Tls.Count; i++)
            {
                var tls = vs.Spec.Tls[i];
                var name = string.Create(CultureInfo.InvariantCulture, $"{ns}/{vs.Metadata.Name}.tls[{i}]");
                ImmutableArray<WeightedCluster>? destinations = null;
                foreach (var match in tls.Match.Where(m => Applies(m.Port, m.Gateways, ns, port, bound)))
                {
                    if (match.DestinationSubnets.Count > 0)
                    {
                        notes.Add($"{name}: destinationSubnets ignored on a gateway (as Istio does)");
                    }

                    foreach (var sni in match.SniHosts.Where(h => claimed.Add(h)))
                    {
                        destinations ??= Destinations(mesh, tls.Route, ns, port);
                        routes.Add((sni, new TcpRoute
                        {
                            Name = name,
                            Matches = [new TcpRouteMatch { SniHosts = [sni] }],
                            Destinations = destinations.Value,
                        }));
                    }
                }
            }
        }

        return [.. routes.OrderBy(r => Specificity(r.Sni)).Select(r => r.Route)];
    }

    /// <summary>Envoy's server_names order: exact names, then "*.suffix" longest suffix first, then "*".</summary>
    private static (int, int) Specificity(string sni) =>
        sni == "*" ? (2, 0) : sni.StartsWith('*') ? (1, -sni.Length) : (0, 0);

    /// <summary>VirtualServices (creation order) bound to one of the servers' Gateways with a host the server admits.</summary>
    private static IEnumerable<(VirtualService Vs, HashSet<string> Bound)> BoundVirtualServices(MeshModel mesh, List<(Gateway Gateway, Server Server)> servers)
    {
        var refs = servers.Select(s => GatewayGenerator.Ref(s.Gateway)).ToHashSet(StringComparer.Ordinal);
        foreach (var vs in mesh.VirtualServices)
        {
            var ns = vs.EffectiveNamespace;
            var bound = vs.Spec.Gateways.Select(g => RouteBuilder.GatewayRef(g, ns)).Where(refs.Contains).ToHashSet(StringComparer.Ordinal);
            if (bound.Count > 0 && vs.Spec.Hosts.Any(h => servers.Any(s => bound.Contains(GatewayGenerator.Ref(s.Gateway)) && GatewayGenerator.Allows(s.Gateway, s.Server, h, ns))))
            {
                yield return (vs, bound);
            }
        }
    }

    /// <summary>Istio's l4 match at a gateway: the port (if set) is the server's, the gateways (if set) include this one.</summary>
    private static bool Applies(int? matchPort, IReadOnlyList<string> gateways, string vsNamespace, int port, HashSet<string> bound) =>
        (matchPort is null or 0 || matchPort == port)
        && (gateways.Count == 0 || gateways.Any(g => bound.Contains(RouteBuilder.GatewayRef(g, vsNamespace))));

    /// <summary>Weights as for http routes: one destination takes all; several without weights split evenly.</summary>
    private static ImmutableArray<WeightedCluster> Destinations(MeshModel mesh, IReadOnlyList<RouteDestination> route, string ns, int port)
    {
        var anyWeight = route.Any(d => d.Weight is not null);
        return [.. route.Select((d, i) => new WeightedCluster
        {
            Cluster = RouteBuilder.ClusterOf(mesh, d.Destination, ns, port),
            Weight = route.Count == 1 ? (d.Weight is > 0 and var w ? w : 100)
                : anyWeight ? d.Weight ?? 0
                : (100 / route.Count) + (i == 0 ? 100 % route.Count : 0),
        })];
    }

    private static string Note(Gateway gw, Server server, string what) =>
        string.Create(CultureInfo.InvariantCulture, $"{gw.EffectiveNamespace}/{gw.Metadata.Name}: server port {server.Port.Number} ({server.Port.Protocol}) {what}");
}
