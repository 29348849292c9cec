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

    private const string IstioDocsSidecarFilter = """
        apiVersion: networking.istio.io/v1alpha3
        kind: EnvoyFilter
        metadata: {name: filter-local-ratelimit-svc}
        spec:
          workloadSelector:
            labels: {app: reviews}
          configPatches:
          - applyTo: HTTP_FILTER
            match:
              context: SIDECAR_INBOUND
              listener: {filterChain: {filter: {name: envoy.filters.network.http_connection_manager}}}
            patch:
              operation: INSERT_BEFORE
              value:
                name: envoy.filters.http.local_ratelimit
                typed_config:
                  "@type": type.googleapis.com/udpa.type.v1.TypedStruct
                  type_url: type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                  value: {stat_prefix: http_local_rate_limiter}
          - applyTo: HTTP_ROUTE
            match:
              context: SIDECAR_INBOUND
              routeConfiguration: {vhost: {name: "inbound|http|9080", route: {action: ANY}}}
            patch:
              operation: MERGE
              value:
                typed_per_filter_config:
                  envoy.filters.http.local_ratelimit:
                    "@type": type.googleapis.com/udpa.type.v1.TypedStruct
                    type_url: type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                    value:
                      stat_prefix: http_local_rate_limiter
                      token_bucket: {max_tokens: 4, tokens_per_fill: 2, fill_interval: 60s}
                      filter_enabled: {runtime_key: e, default_value: {numerator: 100, denominator: HUNDRED}}
                      filter_enforced: {runtime_key: f, default_value: {numerator: 100, denominator: HUNDRED}}
        """;

    [Fact]
    public void EnvoyFilter_IstioDocsShape_LimitsTheSelectedSidecarsInbound_NotTheGateway()
    {
        var sidecar = ConfigOf("reviews-v1-0", IstioDocsSidecarFilter);
        var gateway = ConfigOf("gateway", IstioDocsSidecarFilter.Replace("{app: reviews}", "{}", StringComparison.Ordinal));

        Assert.Equal(Expected with { Name = "default/filter-local-ratelimit-svc" }, sidecar.Listeners.Single(l => l.Kind == ListenerKind.Inbound).RateLimit);
        Assert.All(gateway.Listeners, l => Assert.Null(l.RateLimit));
    }

    [Fact]
    public void EnvoyFilter_GatewayRoutePatch_LimitsThatRouteOnly()
    {
        var routeName = ConfigOf("gateway").RouteTables.Single().VirtualHosts.Single().Routes.Single().Name!;
        var filter = $$$"""
            apiVersion: networking.istio.io/v1alpha3
            kind: EnvoyFilter
            metadata: {name: gw, namespace: istio-system}
            spec:
              workloadSelector:
                labels: {istio: ingressgateway}
              configPatches:
              - applyTo: HTTP_ROUTE
                match:
                  context: GATEWAY
                  routeConfiguration:
                    vhost:
                      route:
                        name: "{{{routeName}}}"
                patch:
                  operation: MERGE
                  value:
                    typed_per_filter_config:
                      envoy.filters.http.local_ratelimit:
                        "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                        token_bucket: {max_tokens: 4, tokens_per_fill: 2, fill_interval: 60s}
                        filter_enabled: {default_value: {numerator: 100}}
                        filter_enforced: {default_value: {numerator: 100}}
            """;

        var config = ConfigOf("gateway", filter);

        Assert.Null(config.Listeners.Single().RateLimit);
        Assert.Equal(Expected with { Name = "istio-system/gw" }, config.RouteTables.Single().VirtualHosts.Single().Routes.Single().RateLimit);
    }
}
