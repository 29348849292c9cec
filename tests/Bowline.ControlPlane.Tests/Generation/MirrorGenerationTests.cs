using System.Collections.Immutable;
using Bowline.Api.Xds;
using Bowline.ControlPlane.Generation;

namespace Bowline.ControlPlane.Tests.Generation;

public sealed class MirrorGenerationTests
{
    private const string RatingsRule = """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: ratings}
        spec:
          host: ratings
          subsets:
          - {name: v1, labels: {version: v1}}
          - {name: v2, labels: {version: v2}}
        """;

    private const string V1 = "outbound|9080|v1|ratings.default.svc.cluster.local";
    private const string V2 = "outbound|9080|v2|ratings.default.svc.cluster.local";

    private static Route RatingsRoute(string http)
    {
        var vs = $"""
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: ratings
            spec:
              hosts:
              - ratings
              http:
            {http}
            """;
        var generated = ProxyConfigGenerator.Generate(Bookinfo.Snapshot(Bookinfo.Services, RatingsRule, vs), Bookinfo.Registry(), Bookinfo.PodNamed("reviews-v2-0"));
        return generated.Config.RouteTables.Single(t => t.Name == "outbound").VirtualHosts
            .Single(h => h.Name == "ratings.default.svc.cluster.local:9080").Routes.Single();
    }

    [Fact]
    public void Mirror_IstioTaskWithSubsetAndPercentage_BecomesOneMirrorPolicy()
    {
        // The shape of Istio's "Mirroring" task: all traffic to v1, a share copied to v2.
        var route = RatingsRoute("""
              - route:
                - destination:
                    host: ratings
                    subset: v1
                  weight: 100
                mirror:
                  host: ratings
                  subset: v2
                mirrorPercentage:
                  value: 37.5
            """);

        Assert.Equal(V1, route.Destinations.Single().Cluster);
        Assert.Equal([new MirrorPolicy { Cluster = V2, Percentage = 37.5 }], route.Mirrors.AsEnumerable());
    }

    [Fact]
    public void Mirror_WithoutPercentage_MirrorsAll_AndDeprecatedMirrorPercentIsHonoured()
    {
        var all = RatingsRoute("""
              - route:
                - destination: {host: ratings, subset: v1}
                mirror: {host: ratings, subset: v2, port: {number: 9080}}
            """);
        var deprecated = RatingsRoute("""
              - route:
                - destination: {host: ratings, subset: v1}
                mirror: {host: ratings.default.svc.cluster.local, subset: v2}
                mirrorPercent: 20
            """);

        Assert.Equal([new MirrorPolicy { Cluster = V2, Percentage = 100 }], all.Mirrors.AsEnumerable());
        Assert.Equal([new MirrorPolicy { Cluster = V2, Percentage = 20 }], deprecated.Mirrors.AsEnumerable());
    }

    [Fact]
    public void Mirrors_List_EachWithItsOwnPercentage_AfterMirror()
    {
        var route = RatingsRoute("""
              - route:
                - destination: {host: ratings, subset: v1}
                mirror: {host: ratings, subset: v2}
                mirrorPercentage: {value: 5}
                mirrors:
                - destination: {host: ratings, subset: v1}
                  percentage: {value: 50}
                - destination: {host: ratings}
            """);

        Assert.Equal(
            [
                new MirrorPolicy { Cluster = V2, Percentage = 5 },
                new MirrorPolicy { Cluster = V1, Percentage = 50 },
                new MirrorPolicy { Cluster = "outbound|9080||ratings.default.svc.cluster.local", Percentage = 100 },
            ],
            route.Mirrors.AsEnumerable());
    }

    [Fact]
    public void NoMirror_LeavesMirrorsEmpty()
    {
        var route = RatingsRoute("""
              - route:
                - destination: {host: ratings, subset: v1}
            """);

        Assert.True(route.Mirrors.IsEmpty);
    }

    [Fact]
    public void Mirror_OnAGatewayRoute_PushesTheMirrorClusterToTheGateway()
    {
        var vs = """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: bookinfo}
            spec:
              hosts: ["*"]
              gateways: [bookinfo-gateway]
              http:
              - route:
                - destination: {host: ratings, subset: v1}
                mirror: {host: ratings, subset: v2}
            """;
        var config = ProxyConfigGenerator.Generate(Bookinfo.Snapshot(Bookinfo.Services, RatingsRule, Bookinfo.Gateway.Split("---")[0], vs),
            Bookinfo.Registry(), Bookinfo.Gateway0).Config;

        Assert.Equal(V2, config.RouteTables.Single().VirtualHosts.Single().Routes.Single().Mirrors.Single().Cluster);
        Assert.Contains(config.Clusters, c => c.Name == V2);
    }
}
