using System.Collections.Immutable;
using System.Globalization;
using Bowline.Api.Registry;
using Bowline.Api.Resources;
using Bowline.Api.Xds;
using Route = Bowline.Api.Xds.Route;

namespace Bowline.ControlPlane.Generation;

/// <summary>
/// A gateway pod's config: a listener per server port of the Gateways selecting it, each routed by the VirtualServices
/// bound to those Gateways. Only the clusters its routes use are included (as Istio does with
/// PILOT_FILTER_GATEWAY_CLUSTER_CONFIG), so a change to a service the gateway never routes to does not touch it.
/// </summary>
internal static class GatewayGenerator
{
    public static ProxyConfig Build(MeshModel mesh, LocalPod pod, List<string> notes)
    {
        var byPort = new SortedDictionary<int, List<(Gateway Gateway, Server Server, int Index)>>();
        var tcpByPort = new SortedDictionary<int, List<(Gateway Gateway, Server Server)>>();
        foreach (var gw in mesh.Gateways.Where(g => Labels.Contains(pod.Labels, g.Spec.Selector)))
        {
            for (var index = 0; index < gw.Spec.Servers.Count; index++)
            {
                var server = gw.Spec.Servers[index];
                if (TcpGatewayListeners.Serves(gw, server, notes))
                {
                    if (!tcpByPort.TryGetValue(server.Port.Number, out var tcpList))
                    {
                        tcpByPort[server.Port.Number] = tcpList = [];
                    }

                    tcpList.Add((gw, server));
                    continue;
                }

                if (!Protocols.IsHttpServer(server.Port.Protocol) && !GatewayTlsBuilder.Terminates(server))
                {
                    notes.Add(string.Create(CultureInfo.InvariantCulture,
                        $"{gw.EffectiveNamespace}/{gw.Metadata.Name}: server port {server.Port.Number} ({server.Port.Protocol}) skipped: only HTTP, HTTP2, GRPC and HTTPS (SIMPLE, MUTUAL, OPTIONAL_MUTUAL) servers are supported"));
                    continue;
                }

                if (!byPort.TryGetValue(server.Port.Number, out var list))
                {
                    byPort[server.Port.Number] = list = [];
                }

                list.Add((gw, server, index));
            }
        }

        var listeners = new List<Listener>();
        var tables = new List<RouteTable>();
        var clusterNames = new SortedSet<string>(StringComparer.Ordinal);
        // A gateway's LocalRateLimit covers all its traffic (Istio's GATEWAY context), or the named routes only.
        var rateLimits = RateLimitBuilder.For(mesh.LocalRateLimits, pod);
        foreach (var (port, all) in byPort)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"gateway|{port}");
            var bound = pod.GatewayPorts.TryGetValue(port, out var mapped) ? mapped : port;
            var tls = Tls(mesh, pod, port, all, notes);
            if (tls is { Contexts.IsEmpty: true })
            {
                continue; // no server on the port has a usable credential: nothing to serve (each was noted)
            }

            var servers = all.Where(s => tls is null || GatewayTlsBuilder.Terminates(s.Server)).Select(s => (s.Gateway, s.Server)).ToList();
            listeners.Add(new Listener
            {
                Name = name,
                Kind = ListenerKind.Gateway,
                Address = "127.0.0.1",
                Port = bound,
                RouteTable = name,
                RateLimit = rateLimits.Listener,
                Workload = WorkloadMetadataBuilder.Of(pod),
                Tls = tls,
            });
            var table = RateLimitBuilder.Apply(Table(mesh, pod, name, port, bound, servers, notes), rateLimits.Routes);
            tables.Add(table);
            foreach (var route in table.VirtualHosts.SelectMany(h => h.Routes))
            {
                foreach (var d in route.Destinations)
                {
                    clusterNames.Add(d.Cluster);
                }

                // A mirror's cluster is pushed too, or the gateway would NACK the route (unknown mirror cluster).
                foreach (var m in route.Mirrors)
                {
                    clusterNames.Add(m.Cluster);
                }
            }
        }

        foreach (var (port, servers) in tcpByPort)
        {
            if (byPort.ContainsKey(port))
            {
                notes.Add(string.Create(CultureInfo.InvariantCulture, $"gateway port {port}: TCP/TLS servers skipped: the port has HTTP servers too"));
                continue;
            }

            var bound = pod.GatewayPorts.TryGetValue(port, out var mapped) ? mapped : port;
            var listener = TcpGatewayListeners.Build(mesh, port, bound, servers, notes);
            listeners.Add(listener);
            foreach (var d in listener.TcpRoutes!.Value.SelectMany(r => r.Destinations))
            {
                clusterNames.Add(d.Cluster);
            }
        }

        return new ProxyConfig
        {
            Listeners = [.. listeners],
            RouteTables = [.. tables],
            Clusters = [.. clusterNames.Select(mesh.BuildCluster)],
        };
    }

    private static RouteTable Table(MeshModel mesh, LocalPod pod, string name, int port, int boundPort,
        List<(Gateway Gateway, Server Server)> servers, List<string> notes)
    {
        var gatewayRefs = servers.Select(s => Ref(s.Gateway)).ToHashSet(StringComparer.Ordinal);
        var claimed = new DomainSet();
        var hosts = new List<VirtualHost>();
        foreach (var vs in mesh.VirtualServices)
        {
            var ns = vs.EffectiveNamespace;
            var bound = vs.Spec.Gateways
                .Select(g => RouteBuilder.GatewayRef(g, ns))
                .Where(gatewayRefs.Contains)
                .ToHashSet(StringComparer.Ordinal);
            if (bound.Count == 0)
            {
                continue;
            }

            var boundServers = servers.Where(s => bound.Contains(Ref(s.Gateway))).ToList();
            ImmutableArray<Route>? routes = null;
            foreach (var host in vs.Spec.Hosts)
            {
                var covering = boundServers.FirstOrDefault(s => Allows(s.Gateway, s.Server, host, ns));
                if (covering.Server is null)
                {
                    continue;
                }

                var domains = claimed.Claim(Domains(host, port, boundPort));
                if (domains.IsEmpty)
                {
                    continue; // an earlier VirtualService has this host here (Istio would merge them)
                }

                if (Redirects(covering.Server))
                {
                    hosts.Add(new VirtualHost
                    {
                        Name = string.Create(CultureInfo.InvariantCulture, $"{host}:{port}"),
                        Domains = domains,
                        Routes = HttpsRedirect,
                    });
                    continue;
                }

                routes ??= RouteBuilder.Build(mesh, vs, new RouteContext(pod, port, bound), notes);
                if (routes.Value.IsEmpty)
                {
                    break;
                }

                hosts.Add(new VirtualHost
                {
                    Name = string.Create(CultureInfo.InvariantCulture, $"{host}:{port}"),
                    Domains = domains,
                    Routes = routes.Value,
                });
            }
        }

        // As Istio does, a redirecting server's hosts redirect even where no VirtualService binds them.
        foreach (var (_, server) in servers.Where(s => Redirects(s.Server)))
        {
            foreach (var host in server.Hosts.Select(GatewayTlsBuilder.StripNamespace))
            {
                var domains = claimed.Claim(Domains(host, port, boundPort));
                if (!domains.IsEmpty)
                {
                    hosts.Add(new VirtualHost
                    {
                        Name = string.Create(CultureInfo.InvariantCulture, $"{host}:{port}"),
                        Domains = domains,
                        Routes = HttpsRedirect,
                    });
                }
            }
        }

        return new RouteTable
        {
            Name = name,
            VirtualHosts = [.. hosts
                .OrderBy(h => HostMatch.Specificity(h.Domains))
                .ThenBy(h => h.Name, StringComparer.Ordinal)],
        };
    }

    /// <summary>
    /// A port with a terminating server is a TLS port: one context per such server (SNI picks among them). Plaintext
    /// servers on the same port conflict, as in Istio, and are left out.
    /// </summary>
    private static ListenerTls? Tls(MeshModel mesh, LocalPod pod, int port, List<(Gateway Gateway, Server Server, int Index)> servers, List<string> notes)
    {
        if (!servers.Any(s => GatewayTlsBuilder.Terminates(s.Server)))
        {
            return null;
        }

        var contexts = new List<TlsContext>();
        foreach (var (gw, server, index) in servers)
        {
            if (!GatewayTlsBuilder.Terminates(server))
            {
                notes.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{gw.EffectiveNamespace}/{gw.Metadata.Name} servers[{index}]: plaintext {server.Port.Protocol} on port {port}, where another server terminates TLS; left out"));
                continue;
            }

            if (GatewayTlsBuilder.Build(mesh, pod, gw, index, notes) is { } context)
            {
                contexts.Add(context);
            }
        }

        return new ListenerTls { Contexts = [.. contexts] };
    }

    /// <summary>Envoy's require_tls ALL for a plaintext server with httpsRedirect: 301 to https, same host and path.</summary>
    private static readonly ImmutableArray<Route> HttpsRedirect =
    [
        new Route { Name = "https-redirect", Redirect = new RedirectAction { Scheme = "https", Code = 301 } },
    ];

    private static bool Redirects(Server server) => server.Tls?.HttpsRedirect == true && !GatewayTlsBuilder.Terminates(server);

    private static IEnumerable<string> Domains(string host, int port, int boundPort) => host == "*"
        ? ["*"]
        : new[] { host, string.Create(CultureInfo.InvariantCulture, $"{host}:{port}"), string.Create(CultureInfo.InvariantCulture, $"{host}:{boundPort}") }
            .Distinct(StringComparer.OrdinalIgnoreCase);

    internal static string Ref(Gateway gw) => $"{gw.EffectiveNamespace}/{gw.Metadata.Name}";

    /// <summary>
    /// Whether a server's hosts admit a VirtualService host: entries are "host", "ns/host", "*/host" or "./host"
    /// (the Gateway's namespace); the namespace part restricts which VirtualServices may bind.
    /// </summary>
    internal static bool Allows(Gateway gw, Server server, string vsHost, string vsNamespace) =>
        server.Hosts.Any(entry =>
        {
            var slash = entry.IndexOf('/', StringComparison.Ordinal);
            var host = slash < 0 ? entry : entry[(slash + 1)..];
            if (slash >= 0)
            {
                var ns = entry[..slash];
                if (ns == ".")
                {
                    ns = gw.EffectiveNamespace;
                }

                if (ns != "*" && ns != vsNamespace)
                {
                    return false;
                }
            }

            return HostMatch.Covers(host, vsHost);
        });
}
