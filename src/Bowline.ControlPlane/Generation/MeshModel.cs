using System.Collections.Immutable;
using System.Globalization;
using Bowline.Api.Registry;
using Bowline.Api.Resources;
using Bowline.Api.Xds;
using Endpoint = Bowline.Api.Xds.Endpoint;
using Bowline.ControlPlane.Config;
using Bowline.ControlPlane.Registry;

namespace Bowline.ControlPlane.Generation;

/// <summary>
/// The config and registry snapshots joined once per push round: services with endpoints, and the routing resources in
/// creation order. Every proxy's config is then derived from this without touching shared state.
/// </summary>
internal sealed class MeshModel
{
    public const string ClusterDomain = "svc.cluster.local";

    private readonly Dictionary<string, MeshService> _byHost;
    // Kubernetes Services (their index in KubeServices) by (namespace, selector label=value): a pod is selected only by
    // Services one of whose selector pairs it carries, so each sidecar looks at a few Services, not all of them.
    private readonly Dictionary<(string Ns, string Key, string Value), List<int>> _kubeBySelectorLabel = [];

    private MeshModel(ImmutableArray<MeshService> services, IReadOnlyList<VirtualService> virtualServices,
        IReadOnlyList<DestinationRule> destinationRules, IReadOnlyList<Gateway> gateways, IReadOnlyList<KubeService> kubeServices,
        MeshConfig meshConfig, IReadOnlyList<RateLimitRule> localRateLimits)
    {
        MeshConfig = meshConfig;
        LocalRateLimits = localRateLimits;
        Services = services;
        VirtualServices = virtualServices;
        DestinationRules = destinationRules;
        Gateways = gateways;
        KubeServices = kubeServices;
        UsesSourceLabels = virtualServices.Any(vs => vs.Spec.Http.Any(h => h.Match.Any(m => m.SourceLabels.Count > 0)));
        for (var i = 0; i < kubeServices.Count; i++)
        {
            var svc = kubeServices[i];
            foreach (var (k, v) in svc.Spec.Selector)
            {
                var key = (svc.EffectiveNamespace, k, v);
                if (!_kubeBySelectorLabel.TryGetValue(key, out var list))
                {
                    _kubeBySelectorLabel[key] = list = [];
                }

                list.Add(i);
            }
        }

        _byHost = new Dictionary<string, MeshService>(StringComparer.OrdinalIgnoreCase);
        foreach (var s in services)
        {
            _byHost.TryAdd(s.Hostname, s);
        }
    }

    /// <summary>Sorted by hostname.</summary>
    public ImmutableArray<MeshService> Services { get; }
    public IReadOnlyList<VirtualService> VirtualServices { get; }
    public IReadOnlyList<DestinationRule> DestinationRules { get; }
    public IReadOnlyList<Gateway> Gateways { get; }
    public IReadOnlyList<KubeService> KubeServices { get; }
    /// <summary>Istio's mesh config (the ConfigMap istio-system/istio), defaults when there is none.</summary>
    public MeshConfig MeshConfig { get; }
    /// <summary>LocalRateLimit resources and EnvoyFilter local_ratelimit patches, in creation order (see <see cref="RateLimitBuilder"/>).</summary>
    public IReadOnlyList<RateLimitRule> LocalRateLimits { get; }
    /// <summary>Mesh config and Telemetry resources, for <see cref="TelemetryBuilder"/>.</summary>
    public TelemetryInputs Telemetry { get; private init; } = TelemetryInputs.None;

    /// <summary>Secrets by "namespace/name", for Gateway credentialName.</summary>
    public IReadOnlyDictionary<string, KubeSecret> Secrets { get; private init; } = new Dictionary<string, KubeSecret>();
    /// <summary>Whether some VirtualService route matches on sourceLabels (then a sidecar's routes depend on its labels).</summary>
    public bool UsesSourceLabels { get; }

    public static MeshModel Build(ConfigSnapshot config, RegistrySnapshot registry)
    {
        var services = new List<MeshService>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var kube = config.OfType<KubeService>().ToList();
        var pods = PodIndex.Of(registry.Pods);
        // Kubernetes Services first: a ServiceEntry naming the same host does not replace it.
        foreach (var svc in kube)
        {
            var ms = FromKube(svc, pods);
            if (seen.Add(ms.Hostname))
            {
                services.Add(ms);
            }
        }

        var workloadEntries = config.OfType<WorkloadEntry>().ToList();
        foreach (var se in config.OfType<ServiceEntry>())
        {
            foreach (var ms in FromServiceEntry(se, workloadEntries, registry.Pods))
            {
                if (seen.Add(ms.Hostname))
                {
                    services.Add(ms);
                }
            }
        }

        return new MeshModel(
            [.. services.OrderBy(s => s.Hostname, StringComparer.Ordinal)],
            [.. config.OfType<VirtualService>()],
            [.. config.OfType<DestinationRule>()],
            [.. config.OfType<Gateway>()],
            kube,
            MeshConfig.From(config.OfType<ConfigMap>()),
            RateLimitBuilder.Rules(config.InCreationOrder().Select(r => r.Resource)))
        {
            Telemetry = TelemetryInputs.From(config),
            Secrets = config.OfType<KubeSecret>().ToDictionary(s => $"{s.EffectiveNamespace}/{s.Metadata.Name}", StringComparer.Ordinal),
        };
    }

    /// <summary>
    /// The Kubernetes Services that may select <paramref name="pod"/> (those with a selector pair it carries), in
    /// <see cref="KubeServices"/> order; callers still check the whole selector.
    /// </summary>
    public IEnumerable<KubeService> KubeServicesSelecting(LocalPod pod)
    {
        var found = new SortedSet<int>();
        foreach (var (k, v) in pod.Labels)
        {
            if (_kubeBySelectorLabel.TryGetValue((pod.Namespace, k, v), out var list))
            {
                found.UnionWith(list);
            }
        }

        return found.Select(i => KubeServices[i]);
    }

    public MeshService? FindService(string hostname) => _byHost.GetValueOrDefault(hostname);

    /// <summary>
    /// Istio host resolution: a short name (no dot) is a service in the resource's namespace; otherwise the name as
    /// written, with "name.ns" / "name.ns.svc" completed when that names a known service.
    /// </summary>
    public string ResolveHost(string host, string ns)
    {
        if (host.Length == 0 || host.StartsWith('*'))
        {
            return host;
        }

        if (!host.Contains('.', StringComparison.Ordinal))
        {
            return $"{host}.{ns}.{ClusterDomain}";
        }

        if (_byHost.ContainsKey(host))
        {
            return host;
        }

        foreach (var suffix in (string[])[".svc.cluster.local", ".cluster.local"])
        {
            if (_byHost.ContainsKey(host + suffix))
            {
                return host + suffix;
            }
        }

        return host;
    }

    /// <summary>The first DestinationRule (creation order) whose host is this service. Istio would merge; we do not.</summary>
    public DestinationRule? RuleFor(string hostname) =>
        DestinationRules.FirstOrDefault(dr =>
            string.Equals(ResolveHost(dr.Spec.Host, dr.EffectiveNamespace), hostname, StringComparison.OrdinalIgnoreCase));

    public static string ClusterName(int port, string? subset, string hostname) =>
        string.Create(CultureInfo.InvariantCulture, $"outbound|{port}|{subset}|{hostname}");

    /// <summary>Every outbound cluster the mesh defines: each service port, and each DestinationRule subset of it.</summary>
    public IEnumerable<string> AllClusterNames()
    {
        foreach (var s in Services)
        {
            var subsets = RuleFor(s.Hostname)?.Spec.Subsets ?? [];
            foreach (var p in s.Ports)
            {
                yield return ClusterName(p.Number, null, s.Hostname);
                foreach (var sub in subsets)
                {
                    yield return ClusterName(p.Number, sub.Name, s.Hostname);
                }
            }
        }
    }

    /// <summary>
    /// The cluster an outbound name denotes. Unknown services, ports or subsets give an empty cluster, so a route to it
    /// answers 503 (no healthy upstream) instead of the whole config being rejected.
    /// </summary>
    public Cluster BuildCluster(string name)
    {
        if (name == EgressNames.PassthroughCluster)
        {
            return new Cluster { Name = name, Type = ClusterType.OriginalDestination };
        }

        var parts = name.Split('|');
        if (parts.Length != 4 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            return new Cluster { Name = name };
        }

        var subset = parts[2].Length == 0 ? null : parts[2];
        var hostname = parts[3];
        var service = FindService(hostname);
        var servicePort = service?.Port(port);
        if (servicePort is null)
        {
            return new Cluster { Name = name, Service = hostname, Subset = subset };
        }

        IEnumerable<MeshEndpoint> endpoints = servicePort.Endpoints;
        var rule = RuleFor(hostname);
        if (subset is not null)
        {
            var labels = rule?.Spec.Subsets.FirstOrDefault(s => s.Name == subset)?.Labels;
            endpoints = labels is null ? [] : endpoints.Where(e => Generation.Labels.Contains(e.Labels, labels));
        }

        var cluster = new Cluster
        {
            Name = name,
            Protocol = servicePort.Protocol.Upstream(),
            Service = hostname,
            Subset = subset,
            Type = service!.OriginalDestination ? ClusterType.OriginalDestination : null,
            Endpoints = [.. endpoints
                .Select(e => new Endpoint { Address = e.Address, Port = e.Port, Pod = e.Pod, Weight = e.Weight, Workload = e.Workload })
                .OrderBy(e => e.Address, StringComparer.Ordinal).ThenBy(e => e.Port).ThenBy(e => e.Pod, StringComparer.Ordinal)],
        };
        return TrafficPolicyBuilder.Apply(cluster, TrafficPolicyMerge.For(rule, subset, port));
    }

    private static MeshService FromKube(KubeService svc, PodIndex pods)
    {
        var ns = svc.EffectiveNamespace;
        var selector = svc.Spec.Selector;
        // A Service without a selector has no automatic endpoints (Kubernetes leaves them to the user).
        var members = selector.Count == 0
            ? []
            : pods.Candidates(ns, selector).Where(p => Generation.Labels.Contains(p.Labels, selector)).ToList();
        var ports = svc.Spec.Ports.Select(sp => new MeshServicePort(
            sp.Port,
            sp.Name,
            Protocols.OfKubePort(sp.Name, sp.AppProtocol, sp.Protocol),
            [.. members.SelectMany(pod => TargetOf(pod, sp) is { } target
                ? [new MeshEndpoint(pod.Address, target.InboundPort, pod.Name, pod.Labels, WorkloadMetadataBuilder.Of(pod))]
                : Array.Empty<MeshEndpoint>())]));
        return new MeshService($"{svc.Metadata.Name}.{ns}.{ClusterDomain}", ns, svc.Metadata.Name, [.. ports.OrderBy(p => p.Number)]);
    }

    /// <summary>The pod port a Service port targets: targetPort as a number, as a container port name, or the port itself.</summary>
    public static LocalPodPort? TargetOf(LocalPod pod, KubeServicePort sp) => sp.TargetPort switch
    {
        { Int: { } n } => pod.Ports.FirstOrDefault(p => p.ContainerPort == n),
        { String: { Length: > 0 } s } => pod.Ports.FirstOrDefault(p => p.Name == s),
        _ => pod.Ports.FirstOrDefault(p => p.ContainerPort == sp.Port),
    };

    /// <summary>
    /// A ServiceEntry's hosts as services. Only HTTP ports become service ports (TCP/TLS ones are warned about by
    /// validation). Resolution: NONE (Istio's default) forwards to what the app asked for; STATIC the endpoints'
    /// IPs; DNS / DNS_ROUND_ROBIN the endpoints' names, else the host itself, resolved by the proxy when it connects.
    /// </summary>
    private static IEnumerable<MeshService> FromServiceEntry(ServiceEntry se, List<WorkloadEntry> workloadEntries, ImmutableArray<LocalPod> pods)
    {
        var resolution = se.Spec.Resolution ?? ServiceEntryResolution.None;
        if (se.Spec.WorkloadSelector is { } selector)
        {
            foreach (var ms in FromWorkloadSelector(se, selector.Labels, workloadEntries, pods))
            {
                yield return ms;
            }

            yield break;
        }

        foreach (var host in se.Spec.Hosts)
        {
            var ports = se.Spec.Ports.Where(gp => Protocols.IsHttpServiceEntryPort(gp.Protocol)).Select(gp =>
            {
                var targetPort = gp.TargetPort ?? gp.Number;
                IEnumerable<MeshEndpoint> endpoints = resolution switch
                {
                    ServiceEntryResolution.None => [],
                    _ when se.Spec.Endpoints.Count > 0 => se.Spec.Endpoints.Where(e => !string.IsNullOrEmpty(e.Address)).Select(e =>
                        new MeshEndpoint(e.Address!, e.Ports.TryGetValue(gp.Name, out var p) ? p : targetPort, null, e.Labels) { Weight = e.Weight }),
                    // DNS without endpoints: the host itself is the name to resolve (validation refuses wildcards here).
                    ServiceEntryResolution.Dns or ServiceEntryResolution.DnsRoundRobin when !host.StartsWith('*') =>
                        [new MeshEndpoint(host, targetPort, null, new Dictionary<string, string>())],
                    _ => [],
                };
                return new MeshServicePort(gp.Number, gp.Name, Protocols.OfIstioPort(gp.Protocol), [.. endpoints]);
            });
            yield return new MeshService(host, se.EffectiveNamespace, null, [.. ports.OrderBy(p => p.Number)])
            {
                OriginalDestination = resolution == ServiceEntryResolution.None,
            };
        }
    }

    /// <summary>
    /// A ServiceEntry with a workloadSelector: its endpoints are the WorkloadEntries and the pods of its namespace whose
    /// labels include the selector's. A WorkloadEntry is reached at its address and the port named like the service
    /// port (else targetPort, else the port); a pod, being in the mesh, through its sidecar — the inbound port of its
    /// container port equal to the service port's targetPort (else the port), as Istio's pod endpoints are.
    /// </summary>
    private static IEnumerable<MeshService> FromWorkloadSelector(ServiceEntry se, IReadOnlyDictionary<string, string> selector,
        List<WorkloadEntry> workloadEntries, ImmutableArray<LocalPod> pods)
    {
        var ns = se.EffectiveNamespace;
        var entries = workloadEntries.Where(we => we.EffectiveNamespace == ns && !string.IsNullOrEmpty(we.Spec.Address)
            && Generation.Labels.Contains(MergedLabels(we), selector)).ToList();
        var members = pods.Where(p => p.Namespace == ns && Generation.Labels.Contains(p.Labels, selector)).ToList();
        foreach (var host in se.Spec.Hosts)
        {
            var ports = se.Spec.Ports.Where(gp => Protocols.IsHttpServiceEntryPort(gp.Protocol)).Select(gp =>
            {
                var targetPort = gp.TargetPort ?? gp.Number;
                IEnumerable<MeshEndpoint> fromEntries = entries.Select(we => new MeshEndpoint(
                    we.Spec.Address!, we.Spec.Ports.TryGetValue(gp.Name, out var p) ? p : targetPort, null, MergedLabels(we)) { Weight = we.Spec.Weight });
                IEnumerable<MeshEndpoint> fromPods = members.SelectMany(pod => pod.Ports.FirstOrDefault(pp => pp.ContainerPort == targetPort) is { } pp
                    ? [new MeshEndpoint(pod.Address, pp.InboundPort, pod.Name, pod.Labels)]
                    : Array.Empty<MeshEndpoint>());
                return new MeshServicePort(gp.Number, gp.Name, Protocols.OfIstioPort(gp.Protocol), [.. fromEntries, .. fromPods]);
            });
            yield return new MeshService(host, ns, null, [.. ports.OrderBy(p => p.Number)]);
        }
    }

    /// <summary>A WorkloadEntry's labels: its spec's, else (as Istio falls back) its metadata's.</summary>
    private static IReadOnlyDictionary<string, string> MergedLabels(WorkloadEntry we) =>
        we.Spec.Labels.Count > 0 ? we.Spec.Labels : we.Metadata.Labels;

    /// <summary>
    /// Pods by (namespace, label=value), so selecting a Service's pods looks at the pods carrying one of its selector's
    /// labels instead of every pod of the mesh (services × pods per model build otherwise). Candidates keep registry order.
    /// </summary>
    private sealed class PodIndex
    {
        private readonly Dictionary<(string Ns, string Key, string Value), List<LocalPod>> _byLabel = [];

        public static PodIndex Of(ImmutableArray<LocalPod> pods)
        {
            var index = new PodIndex();
            foreach (var p in pods)
            {
                foreach (var (k, v) in p.Labels)
                {
                    if (!index._byLabel.TryGetValue((p.Namespace, k, v), out var list))
                    {
                        index._byLabel[(p.Namespace, k, v)] = list = [];
                    }

                    list.Add(p);
                }
            }

            return index;
        }

        public List<LocalPod> Candidates(string ns, IReadOnlyDictionary<string, string> selector)
        {
            List<LocalPod> best = [];
            var first = true;
            foreach (var (k, v) in selector)
            {
                var list = _byLabel.GetValueOrDefault((ns, k, v));
                if (list is null)
                {
                    return [];
                }

                if (first || list.Count < best.Count)
                {
                    best = list;
                    first = false;
                }
            }

            return best;
        }
    }
}
