using Bowline.Api.Xds;
using Bowline.ControlPlane.Generation;

namespace Bowline.ControlPlane.Tests.Generation;

public sealed class RateLimitGenerationTests
{
    private static string Limit(string name, string ns, string selector, string routes = "") => $$"""
        apiVersion: bowline.io/v1alpha1
        kind: LocalRateLimit
        metadata: {name: {{name}}, namespace: {{ns}}}
        spec:
          workloadSelector:
            labels: {{selector}}
          {{routes}}
          tokenBucket: {maxTokens: 4, tokensPerFill: 2, fillInterval: 60s}
        """;

    private static readonly LocalRateLimit Expected = new()
    {
        Name = "default/reviews-limit",
        MaxTokens = 4,
        TokensPerFill = 2,
        FillInterval = TimeSpan.FromSeconds(60),
    };

    private static ProxyConfig ConfigOf(string pod, params string[] yaml) =>
        ProxyConfigGenerator.Generate(Bookinfo.Snapshot([Bookinfo.All, .. yaml]), Bookinfo.Registry(),
            pod == "gateway" ? Bookinfo.Gateway0 : Bookinfo.PodNamed(pod)).Config;

    [Fact]
    public void Sidecar_SelectedByLabels_GetsTheLimitOnItsInboundListenersOnly()
    {
        var limit = Limit("reviews-limit", "default", "{app: reviews, version: v2}");

        var selected = ConfigOf("reviews-v2-0", limit);
        var other = ConfigOf("reviews-v1-0", limit);

        Assert.Equal(Expected, selected.Listeners.Single(l => l.Kind == ListenerKind.Inbound).RateLimit);
        Assert.Null(selected.Listeners.Single(l => l.Kind == ListenerKind.Outbound).RateLimit);
        Assert.All(other.Listeners, l => Assert.Null(l.RateLimit));
    }

    [Fact]
    public void OtherNamespace_DoesNotApply_RootNamespaceAppliesEverywhere()
    {
        Assert.All(ConfigOf("reviews-v2-0", Limit("l", "elsewhere", "{app: reviews}")).Listeners, l => Assert.Null(l.RateLimit));
        var root = ConfigOf("reviews-v2-0", Limit("l", "istio-system", "{app: reviews}"));
        Assert.Equal("istio-system/l", root.Listeners.Single(l => l.Kind == ListenerKind.Inbound).RateLimit?.Name);
    }

    [Fact]
    public void Gateway_WholeListener_OrOnlyTheNamedRoute()
    {
        var whole = ConfigOf("gateway", Limit("gw", "istio-system", "{istio: ingressgateway}"));
        Assert.Equal("istio-system/gw", whole.Listeners.Single().RateLimit?.Name);

        // The bookinfo VirtualService's route has no http[].name: Bowline names it itself; a limit can name that too.
        var routeName = whole.RouteTables.Single().VirtualHosts.Single().Routes.Single().Name!;
        var byRoute = ConfigOf("gateway", Limit("gw", "istio-system", "{istio: ingressgateway}", $"routes: [\"{routeName}\"]"));

        Assert.Null(byRoute.Listeners.Single().RateLimit);
        Assert.Equal("istio-system/gw", byRoute.RouteTables.Single().VirtualHosts.Single().Routes.Single().RateLimit?.Name);
    }
}
