using System.Collections.Immutable;
using System.Globalization;
using Bowline.Api.Registry;
using Bowline.Api.Resources;
using Bowline.Api.Xds;
using Endpoint = Bowline.Api.Xds.Endpoint;
using Route = Bowline.Api.Xds.Route;

namespace Bowline.ControlPlane.Generation;

/// <summary>
/// A sidecar's config: inbound listeners in front of the app, one outbound listener routed by the "outbound" table
/// (a virtual host per service port, shaped by the mesh-bound VirtualServices), and the clusters of the whole mesh.
/// </summary>
internal static class SidecarGenerator
{
    public const string OutboundName = "outbound";
    private static readonly IReadOnlySet<string> MeshGateways = new HashSet<string> { RouteBuilder.Mesh };

    public static ProxyConfig Build(MeshModel mesh, LocalPod pod, List<string> notes)
    {
        var (listeners, inbound) = BuildLocal(mesh, pod);
        var (table, outbound) = BuildShared(mesh, pod, notes);
        return new ProxyConfig { Listeners = [.. listeners], RouteTables = [table], Clusters = [.. inbound, .. outbound] };
    }

    /// <summary>
    /// What sidecars with the same key share: the outbound route table and the outbound clusters depend on the pod
    /// only through its namespace (short domains, sourceNamespace) and, when some VirtualService matches on
    /// sourceLabels, its labels.
    /// </summary>
    public static string SharedKey(MeshModel mesh, LocalPod pod) =>
        mesh.UsesSourceLabels
            ? pod.Namespace + "\n" + string.Join(",", pod.Labels.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"))
            : pod.Namespace;

    /// <summary>The pod's own part: inbound listeners and clusters, and the outbound listener.</summary>
    public static (List<Listener> Listeners, List<Cluster> InboundClusters) BuildLocal(MeshModel mesh, LocalPod pod)
    {
        var listeners = new List<Listener>();
        var clusters = new List<Cluster>();
        // A sidecar's LocalRateLimit guards its workload: every inbound request (Istio's SIDECAR_INBOUND context).
        var rateLimit = RateLimitBuilder.For(mesh.LocalRateLimits, pod).Listener;
        var workload = WorkloadMetadataBuilder.Of(pod);
        foreach (var port in pod.Ports)
        {
            var cluster = string.Create(CultureInfo.InvariantCulture, $"inbound|{port.ContainerPort}||");
            var protocol = InboundProtocol(mesh, pod, port);
            listeners.Add(new Listener
            {
                Name = string.Create(CultureInfo.InvariantCulture, $"inbound|{port.ContainerPort}"),
                Kind = ListenerKind.Inbound,
                Address = pod.Address,
                Port = port.InboundPort,
                Cluster = cluster,
                RateLimit = rateLimit,
                // TCP, TLS/HTTPS (a sidecar does not decrypt) and mongo/redis/mysql ports: the app gets the bytes as sent.
                Protocol = protocol.IsOpaque() ? ListenerProtocol.Tcp : null,
                Workload = workload,
            });
            clusters.Add(new Cluster
            {
                Name = cluster,
                Protocol = protocol.Upstream(),
                Service = InboundService(mesh, pod, port),
                Endpoints = [new Endpoint { Address = "127.0.0.1", Port = port.AppPort, Pod = pod.Name }],
            });
        }

        listeners.Add(new Listener
        {
            Name = OutboundName,
            Kind = ListenerKind.Outbound,
            Address = "127.0.0.1",
            Port = pod.OutboundPort,
            RouteTable = OutboundName,
            Workload = workload,
        });
        return (listeners, clusters);
    }

    /// <summary>The part shared by every sidecar with the same <see cref="SharedKey"/>; clusters sorted by name.</summary>
    public static (RouteTable Table, IReadOnlyList<Cluster> OutboundClusters) BuildShared(MeshModel mesh, LocalPod pod, List<string> notes)
    {
        var table = OutboundTable(mesh, pod, notes);
        return (table, [.. SharedClusterNames(mesh, table).Select(mesh.BuildCluster)]);
    }

    /// <summary>
    /// Istio gives a sidecar every cluster of the mesh (no Sidecar resource yet), plus any a route names that the mesh
    /// does not define (empty: requests to it get 503). Sorted by name.
    /// </summary>
    public static SortedSet<string> SharedClusterNames(MeshModel mesh, RouteTable table)
    {
        var names = new SortedSet<string>(mesh.AllClusterNames(), StringComparer.Ordinal);
        foreach (var vh in table.VirtualHosts)
        {
            foreach (var r in vh.Routes)
            {
                foreach (var d in r.Destinations)
                {
                    names.Add(d.Cluster);
                }
            }
        }

        return names;
    }

    /// <summary>The FQDN of the first Kubernetes Service that selects the pod on this port (Istio's destination_service inbound).</summary>
    public static string? InboundService(MeshModel mesh, LocalPod pod, LocalPodPort port)
    {
        foreach (var svc in mesh.KubeServicesSelecting(pod))
        {
            if (svc.EffectiveNamespace == pod.Namespace && svc.Spec.Selector.Count > 0 && Labels.Contains(pod.Labels, svc.Spec.Selector)
                && svc.Spec.Ports.Any(sp => MeshModel.TargetOf(pod, sp)?.ContainerPort == port.ContainerPort))
            {
                return $"{svc.Metadata.Name}.{svc.EffectiveNamespace}.{MeshModel.ClusterDomain}";
            }
        }

        return null;
    }

    /// <summary>The protocol of the Service port that targets this container port (else the container port's name).</summary>
    public static ServiceProtocol InboundProtocol(MeshModel mesh, LocalPod pod, LocalPodPort port)
    {
        foreach (var svc in mesh.KubeServicesSelecting(pod))
        {
            if (svc.EffectiveNamespace != pod.Namespace || svc.Spec.Selector.Count == 0
                || !Labels.Contains(pod.Labels, svc.Spec.Selector))
            {
                continue;
            }

            foreach (var sp in svc.Spec.Ports)
            {
                if (MeshModel.TargetOf(pod, sp)?.ContainerPort == port.ContainerPort)
                {
                    return Protocols.OfKubePort(sp.Name, sp.AppProtocol, sp.Protocol);
                }
            }
        }

        return Protocols.OfKubePort(port.Name, null);
    }

    private static RouteTable OutboundTable(MeshModel mesh, LocalPod pod, List<string> notes)
    {
        var meshVs = mesh.VirtualServices
            .Where(vs => vs.Spec.Gateways.Count == 0 || vs.Spec.Gateways.Contains(RouteBuilder.Mesh))
            .ToList();
        var hosts = new List<VirtualHost>();
        var claimed = new DomainSet();
        var ctxBase = new RouteContext(pod, 0, MeshGateways);

        foreach (var svc in mesh.Services)
        {
            var vs = VirtualServiceFor(mesh, meshVs, svc.Hostname);
            var barePort = svc.Port(80)?.Number ?? svc.Ports.FirstOrDefault()?.Number;
            foreach (var port in svc.Ports)
            {
                var routes = vs is null ? [] : RouteBuilder.Build(mesh, vs, ctxBase with { Port = port.Number }, notes);
                if (routes.IsEmpty)
                {
                    routes = [RouteBuilder.Default(svc.Hostname, port.Number)];
                }

                var domains = claimed.Claim(Domains(svc, pod.Namespace, port.Number, port.Number == barePort));
                hosts.Add(new VirtualHost
                {
                    Name = string.Create(CultureInfo.InvariantCulture, $"{svc.Hostname}:{port.Number}"),
                    Domains = domains,
                    Routes = routes,
                });
            }
        }

        // VirtualService hosts that are no service (external names): a virtual host of their own.
        foreach (var vs in meshVs)
        {
            foreach (var host in vs.Spec.Hosts)
            {
                var resolved = mesh.ResolveHost(host, vs.EffectiveNamespace);
                if (mesh.FindService(resolved) is not null)
                {
                    continue;
                }

                var domains = claimed.Claim([resolved]);
                if (domains.IsEmpty)
                {
                    continue;
                }

                var routes = RouteBuilder.Build(mesh, vs, ctxBase with { Port = 80 }, notes);
                if (!routes.IsEmpty)
                {
                    hosts.Add(new VirtualHost { Name = resolved, Domains = domains, Routes = routes });
                }
            }
        }

        var ordered = hosts
            .Where(h => !h.Domains.IsEmpty)
            .OrderBy(h => HostMatch.Specificity(h.Domains))
            .ThenBy(h => h.Name, StringComparer.Ordinal);
        var catchAll = claimed.Claim(["*"]);
        return new RouteTable
        {
            Name = OutboundName,
            VirtualHosts = catchAll.IsEmpty ? [.. ordered] : [.. ordered, OutboundTrafficPolicyHost(mesh.MeshConfig.OutboundMode)],
        };
    }

    /// <summary>
    /// Istio's last virtual host of a sidecar's outbound routes, for any host the registry does not know: ALLOW_ANY
    /// ("allow_any") forwards to the PassthroughCluster (the host the app asked for); REGISTRY_ONLY ("block_all")
    /// answers 502 itself, which Istio reports as the BlackHoleCluster.
    /// </summary>
    public static VirtualHost OutboundTrafficPolicyHost(OutboundTrafficPolicyMode mode) => mode == OutboundTrafficPolicyMode.RegistryOnly
        ? new VirtualHost
        {
            Name = EgressNames.BlockAll,
            Domains = ["*"],
            Routes = [new Route { Name = EgressNames.BlockAll, DirectResponse = new DirectResponseAction { Status = 502 } }],
        }
        : new VirtualHost
        {
            Name = EgressNames.AllowAny,
            Domains = ["*"],
            Routes = [new Route { Name = EgressNames.AllowAny, Destinations = [new WeightedCluster { Cluster = EgressNames.PassthroughCluster }] }],
        };

    /// <summary>The first mesh VirtualService (creation order) naming the service exactly, else by a wildcard host.</summary>
    private static VirtualService? VirtualServiceFor(MeshModel mesh, List<VirtualService> meshVs, string hostname) =>
        meshVs.FirstOrDefault(vs => vs.Spec.Hosts.Any(h =>
            string.Equals(mesh.ResolveHost(h, vs.EffectiveNamespace), hostname, StringComparison.OrdinalIgnoreCase)))
        ?? meshVs.FirstOrDefault(vs => vs.Spec.Hosts.Any(h => h.StartsWith('*') && HostMatch.Covers(h, hostname)));

    /// <summary>
    /// The names a client in <paramref name="podNamespace"/> can use for this service port, as Kubernetes DNS search
    /// paths resolve them: short forms only from the service's own namespace. Each with ":port"; bare (no port) on one
    /// port per service only (port 80 when it has one), since a bare authority cannot say which port it meant.
    /// </summary>
    private static IEnumerable<string> Domains(MeshService svc, string podNamespace, int port, bool bare)
    {
        IEnumerable<string> names;
        if (svc.ShortName is { } name)
        {
            var ns = svc.Namespace;
            names = svc.Namespace == podNamespace
                ? [name, $"{name}.{ns}", $"{name}.{ns}.svc", svc.Hostname]
                : [$"{name}.{ns}", $"{name}.{ns}.svc", svc.Hostname];
        }
        else
        {
            names = [svc.Hostname];
        }

        foreach (var n in names)
        {
            if (bare)
            {
                yield return n;
            }

            yield return string.Create(CultureInfo.InvariantCulture, $"{n}:{port}");
        }
    }
}
