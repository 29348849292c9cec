using System.Collections.Immutable;
using Bowline.Api.Xds;
using Bowline.ControlPlane.Generation;

namespace Bowline.ControlPlane.Tests.Generation;

public sealed class RouteActionGenerationTests
{
    private static string RatingsHttp(string http) => $$"""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: ratings}
        spec:
          hosts: [ratings]
          http:
        {{http}}
        """;

    [Fact]
    public void Generate_IstioRedirectExample_RedirectRouteWithoutDestinations()
    {
        // Istio's HTTPRedirect reference example.
        var notes = new List<string>();
        var routes = Bookinfo.RatingsRoutes(RatingsHttp("""
              - match:
                - uri:
                    exact: /v1/getProductRatings
                redirect:
                  uri: /v1/bookRatings
                  authority: newratings.default.svc.cluster.local
              - route:
                - destination: {host: ratings, subset: v1}
            """), notes);

        Assert.Equal(new RedirectAction { Uri = "/v1/bookRatings", Authority = "newratings.default.svc.cluster.local", Code = 301 }, routes[0].Redirect);
        Assert.Empty(routes[0].Destinations);
        Assert.Null(routes[0].Retries);
        Assert.Empty(notes);
    }

    [Theory]
    [InlineData("{scheme: https, derivePort: FROM_PROTOCOL_DEFAULT, redirectCode: 308}", "https", RedirectPortMode.ProtocolDefault, null, 308)]
    [InlineData("{derivePort: FROM_REQUEST_PORT}", null, RedirectPortMode.RequestPort, null, 301)]
    [InlineData("{port: 8443}", null, RedirectPortMode.Keep, 8443, 301)]
    public void Generate_RedirectPortAndScheme_Translated(string redirect, string? scheme, RedirectPortMode mode, int? port, int code)
    {
        var action = Bookinfo.RatingsRoutes(RatingsHttp($"  - redirect: {redirect}"))[0].Redirect!;

        Assert.Equal((scheme, mode, port, code), (action.Scheme, action.PortMode, action.Port, action.Code));
    }

    [Fact]
    public void Generate_IstioDirectResponseExample_StatusAndStringBody()
    {
        // Istio's HTTPDirectResponse reference example.
        var routes = Bookinfo.RatingsRoutes(RatingsHttp("""
              - match:
                - uri:
                    exact: /v1/getProductRatings
                directResponse:
                  status: 503
                  body:
                    string: "unknown error"
            """));

        Assert.Equal(new DirectResponseAction { Status = 503, Body = "unknown error" }, routes[0].DirectResponse);
        Assert.Empty(routes[0].Destinations);
    }

    [Fact]
    public void Generate_DirectResponseBytes_PassedAsBase64()
    {
        var routes = Bookinfo.RatingsRoutes(RatingsHttp("  - directResponse: {status: 200, body: {bytes: aGVsbG8=}}"));

        Assert.Equal(new DirectResponseAction { Status = 200, BodyBase64 = "aGVsbG8=" }, routes[0].DirectResponse);
    }

    [Fact]
    public void Generate_IstioRewriteExample_UriAndRegexRewrite()
    {
        // Istio's HTTPRewrite reference example, plus a uriRegexRewrite.
        var routes = Bookinfo.RatingsRoutes(RatingsHttp("""
              - match:
                - uri:
                    prefix: /ratings
                rewrite:
                  uri: /v1/bookRatings
                  authority: ratings.internal
                route:
                - destination: {host: ratings, subset: v1}
              - rewrite:
                  uriRegexRewrite:
                    match: ^/service/([^/]+)(/.*)$
                    rewrite: \2/instance/\1
                route:
                - destination: {host: ratings, subset: v1}
            """));

        Assert.Equal(new RewritePolicy { Uri = "/v1/bookRatings", Authority = "ratings.internal" }, routes[0].Rewrite);
        Assert.Equal(new RegexRewrite { Match = "^/service/([^/]+)(/.*)$", Rewrite = @"\2/instance/\1" }, routes[1].Rewrite!.UriRegex);
    }

    [Fact]
    public void Generate_IstioHeadersExample_RouteAndDestinationLevelOperations()
    {
        // Istio's Headers reference example.
        var routes = Bookinfo.RatingsRoutes(RatingsHttp("""
              - headers:
                  request:
                    set:
                      test: "true"
                route:
                - destination:
                    host: ratings
                    subset: v1
                  weight: 100
                  headers:
                    response:
                      remove:
                      - Foo
                      add:
                        X-Added: "yes"
            """));

        var route = routes[0];
        Assert.Equal("true", route.Headers!.Request!.Set["test"]);
        Assert.Null(route.Headers.Response);
        var destination = Assert.Single(route.Destinations).Headers!.Response!;
        Assert.Equal(["foo"], destination.Remove.ToArray());
        Assert.Equal("yes", destination.Add["x-added"]);
    }

    [Fact]
    public void Generate_IstioCorsExample_OriginsMethodsHeadersMaxAge()
    {
        // Istio's CorsPolicy reference example.
        var routes = Bookinfo.RatingsRoutes(RatingsHttp("""
              - route:
                - destination: {host: ratings, subset: v1}
                corsPolicy:
                  allowOrigins:
                  - exact: https://example.com
                  allowMethods:
                  - POST
                  - GET
                  allowCredentials: false
                  allowHeaders:
                  - X-Foo-Bar
                  maxAge: "24h"
            """));

        var cors = routes[0].Cors!;
        Assert.Equal("https://example.com", Assert.Single(cors.AllowOrigins).Exact);
        Assert.Equal(["POST", "GET"], cors.AllowMethods.ToArray());
        Assert.Equal(["X-Foo-Bar"], cors.AllowHeaders.ToArray());
        Assert.Equal(TimeSpan.FromHours(24), cors.MaxAge);
        Assert.False(cors.AllowCredentials);
    }

    [Fact]
    public void Generate_DeprecatedAllowOrigin_ExactMatchesAndStarMeansAny()
    {
        var cors = Bookinfo.RatingsRoutes(RatingsHttp("""
              - route:
                - destination: {host: ratings, subset: v1}
                corsPolicy:
                  allowOrigin: ["https://a.example", "*"]
            """))[0].Cors!;

        Assert.Equal([new StringMatch { Exact = "https://a.example" }, new StringMatch { Prefix = "" }], cors.AllowOrigins.ToArray());
    }

    [Fact]
    public void Generate_NoRetries_IstioDefaultPolicySentExplicitly()
    {
        var routes = Bookinfo.RatingsRoutes(RatingsHttp("""
              - route:
                - destination: {host: ratings, subset: v1}
            """));

        var retries = routes[0].Retries!;
        Assert.Equal((2, "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes"), (retries.Attempts, retries.RetryOn));
        Assert.Equal([503], retries.RetriableStatusCodes.ToArray());
    }

    [Fact]
    public void Generate_NoVirtualService_DefaultRouteHasIstioDefaultRetries()
    {
        var generated = ProxyConfigGenerator.Generate(Bookinfo.Snapshot(Bookinfo.Services), Bookinfo.Registry(), Bookinfo.PodNamed("reviews-v2-0"));
        var route = generated.Config.RouteTables.Single(t => t.Name == "outbound").VirtualHosts.Single(h => h.Name == "ratings.default.svc.cluster.local:9080").Routes.Single();

        Assert.Equal(2, route.Retries!.Attempts);
    }

    [Fact]
    public void Generate_IstioRetriesExample_NumericRetryOnBecomesStatusCodes()
    {
        var retries = Bookinfo.RatingsRoutes(RatingsHttp("""
              - route:
                - destination: {host: ratings, subset: v1}
                retries:
                  attempts: 3
                  perTryTimeout: 2s
                  retryOn: gateway-error,connect-failure,refused-stream,409
            """))[0].Retries!;

        Assert.Equal((3, TimeSpan.FromSeconds(2), "gateway-error,connect-failure,refused-stream,retriable-status-codes"), (retries.Attempts, retries.PerTryTimeout, retries.RetryOn));
        Assert.Equal([409], retries.RetriableStatusCodes.ToArray());
    }

    [Fact]
    public void Generate_RetriesAttemptsZero_NoRetryPolicy()
    {
        var routes = Bookinfo.RatingsRoutes(RatingsHttp("""
              - route:
                - destination: {host: ratings, subset: v1}
                retries: {attempts: 0}
            """));

        Assert.Null(routes[0].Retries);
    }

    [Fact]
    public void Generate_Delegate_SkippedWithANote()
    {
        var notes = new List<string>();
        var routes = Bookinfo.RatingsRoutes(RatingsHttp("  - delegate: {name: other}"), notes);

        Assert.All(routes, r => Assert.Equal("default", r.Name));
        Assert.Contains(notes, n => n.Contains("skipped", StringComparison.Ordinal));
    }
}
