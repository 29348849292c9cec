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
        var byPort = new SortedDictionary<int, List<(Gateway Gateway, Server Server)>>();
        foreach (var gw in mesh.Gateways.Where(g => Labels.Contains(pod.Labels, g.Spec.Selector)))
        {
            foreach (var server in gw.Spec.Servers)
            {
                if (!Protocols.IsHttpServer(server.Port.Protocol) || server.Tls is not null)
                {
                    notes.Add(string.Create(CultureInfo.InvariantCulture,
                        $"{gw.EffectiveNamespace}/{gw.Metadata.Name}: server port {server.Port.Number} ({server.Port.Protocol}) skipped: only HTTP, HTTP2 and GRPC servers are supported"));
                    continue;
                }

                if (!byPort.TryGetValue(server.Port.Number, out var list))
                {
                    byPort[server.Port.Number] = list = [];
                }

                list.Add((gw, server));
            }
        }

        var listeners = new List<Listener>();
        var tables = new List<RouteTable>();
        var clusterNames = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (port, servers) in byPort)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"gateway|{port}");
            var bound = pod.GatewayPorts.TryGetValue(port, out var mapped) ? mapped : port;
            listeners.Add(new Listener
            {
                Name = name,
                Kind = ListenerKind.Gateway,
                Address = "127.0.0.1",
                Port = bound,
                RouteTable = name,
                Workload = WorkloadMetadataBuilder.Of(pod),
            });
            var table = Table(mesh, pod, name, port, bound, servers, notes);
            tables.Add(table);
            foreach (var d in table.VirtualHosts.SelectMany(h => h.Routes).SelectMany(r => r.Destinations))
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
                if (!boundServers.Any(s => Allows(s.Gateway, s.Server, host, ns)))
                {
                    continue;
                }

                IEnumerable<string> wanted = host == "*"
                    ? ["*"]
                    : [host, string.Create(CultureInfo.InvariantCulture, $"{host}:{port}"),
                        string.Create(CultureInfo.InvariantCulture, $"{host}:{boundPort}")];
                var domains = claimed.Claim(wanted.Distinct(StringComparer.OrdinalIgnoreCase));
                if (domains.IsEmpty)
                {
                    continue; // an earlier VirtualService has this host here (Istio would merge them)
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

        return new RouteTable
        {
            Name = name,
            VirtualHosts = [.. hosts
                .OrderBy(h => HostMatch.Specificity(h.Domains))
                .ThenBy(h => h.Name, StringComparer.Ordinal)],
        };
    }

    private static string Ref(Gateway gw) => $"{gw.EffectiveNamespace}/{gw.Metadata.Name}";

    /// <summary>
    /// Whether a server's hosts admit a VirtualService host: entries are "host", "ns/host", "*/host" or "./host"
    /// (the Gateway's namespace); the namespace part restricts which VirtualServices may bind.
    /// </summary>
    private static bool Allows(Gateway gw, Server server, string vsHost, string vsNamespace) =>
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
