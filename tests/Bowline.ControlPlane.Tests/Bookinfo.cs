using System.Collections.Immutable;
using Bowline.Api.Management;
using Bowline.Api.Registry;
using Bowline.Api.Xds;
using Bowline.ControlPlane.Config;
using Bowline.ControlPlane.Generation;
using Bowline.ControlPlane.Registry;

namespace Bowline.ControlPlane.Tests;

/// <summary>A bookinfo-like world: four services, reviews v1/v2/v3, the ingress gateway and its VirtualService.</summary>
internal static class Bookinfo
{
    public const string Services = """
        apiVersion: v1
        kind: Service
        metadata: {name: details}
        spec:
          selector: {app: details}
          ports: [{name: http, port: 9080}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: ratings}
        spec:
          selector: {app: ratings}
          ports: [{name: http, port: 9080}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: reviews}
        spec:
          selector: {app: reviews}
          ports: [{name: http, port: 9080}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: productpage}
        spec:
          selector: {app: productpage}
          ports: [{name: http, port: 9080}]
        """;

    public const string ReviewsRule = """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reviews}
        spec:
          host: reviews
          subsets:
          - {name: v1, labels: {version: v1}}
          - {name: v2, labels: {version: v2}}
          - {name: v3, labels: {version: v3}}
        """;

    public const string Gateway = """
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: bookinfo-gateway}
        spec:
          selector: {istio: ingressgateway}
          servers:
          - port: {number: 8080, name: http, protocol: HTTP}
            hosts: ["*"]
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: bookinfo}
        spec:
          hosts: ["*"]
          gateways: [bookinfo-gateway]
          http:
          - match:
            - uri: {exact: /productpage}
            - uri: {prefix: /static}
            route:
            - destination: {host: productpage, port: {number: 9080}}
        """;

    public const string ReviewsRoutes = """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews}
        spec:
          hosts: [reviews]
          http:
          - match:
            - headers:
                end-user: {exact: jason}
            route:
            - destination: {host: reviews, subset: v2}
          - route:
            - destination: {host: reviews, subset: v1}
              weight: 50
            - destination: {host: reviews, subset: v3}
              weight: 50
        """;

    public static string All => string.Join("\n---\n", Services, ReviewsRule, Gateway, ReviewsRoutes);

    public static ConfigSnapshot Snapshot(params string[] yaml)
    {
        var files = yaml.Select((y, i) => new ConfigFile { Name = $"f{i}.yaml", Content = y }).ToList();
        var loaded = new ApiConfigLoader().Validate(files);
        Assert.Empty(loaded.Errors);
        return ConfigSnapshot.From(loaded.Documents.Select(d => d.Resource));
    }

    public static LocalPod Pod(string name, string app, string version, int basePort, string ns = "default", string portName = "http") => new()
    {
        Name = name,
        Namespace = ns,
        Workload = name[..name.LastIndexOf('-')],
        Labels = ImmutableDictionary<string, string>.Empty.Add("app", app).Add("version", version),
        Ports = [new LocalPodPort { ContainerPort = 9080, Name = portName, AppPort = basePort, InboundPort = basePort + 1 }],
        OutboundPort = basePort + 2,
        AdminPort = basePort + 3,
    };

    public static LocalPod Gateway0 { get; } = new()
    {
        Name = "istio-ingressgateway-0",
        Namespace = "istio-system",
        Workload = "istio-ingressgateway",
        Role = ProxyRole.Gateway,
        Labels = ImmutableDictionary<string, string>.Empty.Add("istio", "ingressgateway").Add("app", "istio-ingressgateway"),
        GatewayPorts = ImmutableDictionary<int, int>.Empty.Add(8080, 18080),
        AdminPort = 19000,
    };

    public static ImmutableArray<LocalPod> Pods { get; } =
    [
        Pod("productpage-v1-0", "productpage", "v1", 20000),
        Pod("details-v1-0", "details", "v1", 20010),
        Pod("ratings-v1-0", "ratings", "v1", 20020),
        Pod("reviews-v1-0", "reviews", "v1", 20030),
        Pod("reviews-v2-0", "reviews", "v2", 20040),
        Pod("reviews-v3-0", "reviews", "v3", 20050),
        Gateway0,
    ];

    public static RegistrySnapshot Registry(params LocalPod[] extra) => new(1, [.. Pods, .. extra]);

    public static LocalPod PodNamed(string name) => Pods.Single(p => p.Name == name);

    /// <summary>ratings with one subset, v1: the DestinationRule the route-feature tests put beside their VirtualService.</summary>
    public const string RatingsRule = """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: ratings}
        spec:
          host: ratings
          subsets:
          - {name: v1, labels: {version: v1}}
        """;

    /// <summary>The routes reviews-v2's sidecar gets for ratings:9080 under <paramref name="vs"/> (and <see cref="RatingsRule"/>).</summary>
    public static ImmutableArray<Route> RatingsRoutes(string vs, List<string>? notes = null)
    {
        var generated = ProxyConfigGenerator.Generate(Snapshot(Services, RatingsRule, vs), Registry(), PodNamed("reviews-v2-0"));
        notes?.AddRange(generated.Notes);
        return generated.Config.RouteTables.Single(t => t.Name == "outbound").VirtualHosts.Single(h => h.Name == "ratings.default.svc.cluster.local:9080").Routes;
    }
}
