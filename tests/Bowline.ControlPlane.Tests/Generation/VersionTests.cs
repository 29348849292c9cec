using Bowline.Api.Xds;
using Bowline.ControlPlane.Generation;

namespace Bowline.ControlPlane.Tests.Generation;

public sealed class VersionTests
{
    [Fact]
    public void Generate_SameInputParsedTwice_SameVersion()
    {
        var a = ProxyConfigGenerator.Generate(Bookinfo.Snapshot(Bookinfo.All), Bookinfo.Registry(), Bookinfo.PodNamed("productpage-v1-0"));
        var b = ProxyConfigGenerator.Generate(Bookinfo.Snapshot(Bookinfo.All), Bookinfo.Registry(), Bookinfo.PodNamed("productpage-v1-0"));

        Assert.Matches("^[0-9a-f]{12}$", a.Version);
        Assert.Equal(a.Version, b.Version);
    }

    [Fact]
    public void Generate_RegistryOrderChanged_SameVersion()
    {
        var pod = Bookinfo.PodNamed("productpage-v1-0");
        var a = ProxyConfigGenerator.Generate(Bookinfo.Snapshot(Bookinfo.All), Bookinfo.Registry(), pod);
        var b = ProxyConfigGenerator.Generate(Bookinfo.Snapshot(Bookinfo.All), new(2, [.. Bookinfo.Pods.Reverse()]), pod);

        Assert.Equal(a.Version, b.Version);
    }

    [Fact]
    public void Generate_ReviewsRuleChanged_GatewayUnchangedSidecarChanged()
    {
        var changedRule = Bookinfo.ReviewsRule.Replace("{version: v3}", "{version: v3, track: stable}", StringComparison.Ordinal);
        var before = Bookinfo.Snapshot(Bookinfo.Services, Bookinfo.ReviewsRule, Bookinfo.Gateway, Bookinfo.ReviewsRoutes);
        var after = Bookinfo.Snapshot(Bookinfo.Services, changedRule, Bookinfo.Gateway, Bookinfo.ReviewsRoutes);
        var registry = Bookinfo.Registry();

        Assert.Equal(
            ProxyConfigGenerator.Generate(before, registry, Bookinfo.Gateway0).Version,
            ProxyConfigGenerator.Generate(after, registry, Bookinfo.Gateway0).Version);
        var pod = Bookinfo.PodNamed("productpage-v1-0");
        Assert.NotEqual(
            ProxyConfigGenerator.Generate(before, registry, pod).Version,
            ProxyConfigGenerator.Generate(after, registry, pod).Version);
    }

    [Theory]
    [InlineData("")]
    [InlineData(SourceLabelsRoute)]
    public void Compose_EveryPod_SameVersionAsWholeConfig(string extra)
    {
        var snapshot = extra.Length == 0 ? Bookinfo.Snapshot(Bookinfo.All) : Bookinfo.Snapshot(Bookinfo.All, extra);
        // A sidecar in another namespace gets other short domains: it must not share the default namespace's parts.
        var registry = Bookinfo.Registry(Bookinfo.Gateway0, Bookinfo.Pod("client-0", "client", "v1", 31000, ns: "other"));
        var view = new MeshView(MeshModel.Build(snapshot, registry), (1, 1));

        foreach (var pod in registry.Pods)
        {
            var whole = ProxyConfigGenerator.Generate(snapshot, registry, pod);
            var composed = view.Compose(pod);

            Assert.Equal(whole.Version, composed.Version);
            Assert.Equal(ConfigVersion.Of(whole.Config), composed.Version);
            Assert.Equal(whole.Config.Clusters.Select(c => c.Name), composed.Clusters.Select(c => c.Name));
        }
    }

    [Fact]
    public void Compose_OwnClustersBetweenSharedOnes_SameVersionAsWholeConfig()
    {
        // The version hashes runs of shared clusters from the shared part's hash buffer: this pod's own clusters sort
        // between shared ones ("PassthroughCluster" < "inbound|…" < "outbound|…"), so the runs are split.
        var snapshot = Bookinfo.Snapshot(Bookinfo.All);
        var registry = Bookinfo.Registry();
        var view = new MeshView(MeshModel.Build(snapshot, registry), (1, 1));
        var pod = Bookinfo.PodNamed("reviews-v2-0");

        var composed = view.Compose(pod);

        var names = composed.Clusters.Select(c => c.Name).ToList();
        var inbound = names.FindIndex(n => n.StartsWith("inbound|", StringComparison.Ordinal));
        Assert.True(inbound > 0 && inbound < names.Count - 1, string.Join(", ", names));
        Assert.Equal(ConfigVersion.Of(ProxyConfigGenerator.Generate(snapshot, registry, pod).Config), composed.Version);
    }

    private const string SourceLabelsRoute = """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: ratings-by-source}
        spec:
          hosts: [ratings]
          http:
          - match: [{sourceLabels: {app: reviews, version: v2}}]
            route: [{destination: {host: ratings, subset: v1}}]
          - route: [{destination: {host: ratings}}]
        """;
}
