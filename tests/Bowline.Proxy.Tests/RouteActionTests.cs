using System.Collections.Immutable;
using System.Net;
using Bowline.Api.Xds;
using Bowline.Proxy.Pipeline;
using Bowline.Proxy.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using static Bowline.Proxy.Tests.Infrastructure.Configs;

namespace Bowline.Proxy.Tests;

public sealed class RouteActionTests
{
    private static ProxyConfig OneRoute(Route route, int backendPort = 1) => ConfigOf(
        [Outbound()], [Table("outbound", Host("svc", ["*"], route))], [Cluster("app", backendPort)]);

    private static Route ActionRoute(string name, params RouteMatch[] matches) => new() { Name = name, Matches = [.. matches] };

    private static RouteMatch UriMatch(StringMatch uri) => new() { Uri = uri };

    private static ImmutableDictionary<string, string> Map(params (string Key, string Value)[] entries) =>
        entries.ToImmutableDictionary(e => e.Key, e => e.Value);

    [Fact]
    public async Task Redirect_UriReplacesPath_KeepsQueryWithCodeAndNoUpstreamCall()
    {
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(OneRoute(ActionRoute("r", UriMatch(Prefix("/old"))) with { Redirect = new RedirectAction { Uri = "/new/place" } }));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var response = await ProxyForwardingTests.SendAsync(client, "http://svc:9080/old/x?a=1&b=2", "redirect");

        Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
        Assert.Equal("http://svc:9080/new/place?a=1&b=2", response.Headers.Location!.OriginalString);
        Assert.Equal(ResponseFlags.None, await proxy.FlagsOfAsync("redirect"));
    }

    [Fact]
    public async Task Redirect_UriWithItsOwnQuery_ReplacesTheQuery()
    {
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(OneRoute(ActionRoute("r") with { Redirect = new RedirectAction { Uri = "/new?x=9", Code = 302 } }));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var response = await client.GetAsync("http://svc/old?a=1");

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal("http://svc/new?x=9", response.Headers.Location!.OriginalString);
    }

    [Theory]
    [InlineData("https", RedirectPortMode.Keep, null, null, "https://svc:9080/p?q=1")]
    [InlineData("https", RedirectPortMode.ProtocolDefault, null, null, "https://svc/p?q=1")]
    [InlineData(null, RedirectPortMode.Keep, 8443, "other.example", "http://other.example:8443/p?q=1")]
    [InlineData(null, RedirectPortMode.Keep, null, "other.example", "http://other.example/p?q=1")]
    [InlineData(null, RedirectPortMode.RequestPort, null, null, "http://svc:9080/p?q=1")]
    public async Task Redirect_SchemeAuthorityPort_BuildLocationFromTheRequest(string? scheme, RedirectPortMode mode, int? port, string? authority, string expected)
    {
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(OneRoute(ActionRoute("r") with
        {
            Redirect = new RedirectAction { Scheme = scheme, PortMode = mode, Port = port, Authority = authority, Code = 308 },
        }));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var response = await client.GetAsync("http://svc:9080/p?q=1");

        Assert.Equal(HttpStatusCode.PermanentRedirect, response.StatusCode);
        Assert.Equal(expected, response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task DirectResponse_StringBody_AnsweredAsTextPlain()
    {
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(OneRoute(ActionRoute("d", UriMatch(Exact("/health-check"))) with
        {
            DirectResponse = new DirectResponseAction { Status = 503, Body = "unknown error" },
        }));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var response = await client.GetAsync("http://svc/health-check");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("unknown error", await response.Content.ReadAsStringAsync());
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task DirectResponse_Base64Body_AnsweredAsBytes()
    {
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(OneRoute(ActionRoute("d") with { DirectResponse = new DirectResponseAction { Status = 200, BodyBase64 = Convert.ToBase64String([0, 1, 2, 255]) } }));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var response = await client.GetAsync("http://svc/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([0, 1, 2, 255], await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Rewrite_PrefixMatch_ReplacesOnlyThePrefixKeepingRestAndQuery()
    {
        await using var backend = await TestBackend.StartAsync("app");
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(OneRoute(Route("app", UriMatch(Prefix("/v1/api"))) with { Rewrite = new RewritePolicy { Uri = "/api" } }, backend.Port));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var response = await client.GetAsync("http://svc/v1/api/users/7?x=1");

        Assert.Equal("/api/users/7?x=1", ProxyForwardingTests.Header(response, "x-seen-path"));
    }

    [Fact]
    public async Task Rewrite_ExactMatch_ReplacesTheWholePath()
    {
        await using var backend = await TestBackend.StartAsync("app");
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(OneRoute(Route("app", UriMatch(Exact("/v1/getProductRatings"))) with { Rewrite = new RewritePolicy { Uri = "/v1/bookRatings" } }, backend.Port));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var response = await client.GetAsync("http://svc/v1/getProductRatings");

        Assert.Equal("/v1/bookRatings", ProxyForwardingTests.Header(response, "x-seen-path"));
    }

    [Fact]
    public async Task Rewrite_Authority_ReachesTheUpstreamAsHost()
    {
        await using var backend = await TestBackend.StartAsync("app");
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(OneRoute(Route("app") with { Rewrite = new RewritePolicy { Authority = "ratings.internal:7070" } }, backend.Port));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var response = await client.GetAsync("http://svc/x");

        Assert.Equal("ratings.internal:7070", ProxyForwardingTests.Header(response, "x-seen-host"));
        Assert.Equal("/x", ProxyForwardingTests.Header(response, "x-seen-path"));
    }

    [Fact]
    public async Task Rewrite_UriRegex_SubstitutesCaptureGroups()
    {
        await using var backend = await TestBackend.StartAsync("app");
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(OneRoute(Route("app") with
        {
            Rewrite = new RewritePolicy { UriRegex = new RegexRewrite { Match = "^/service/([^/]+)(/.*)$", Rewrite = @"\2/instance/\1" } },
        }, backend.Port));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var response = await client.GetAsync("http://svc/service/foo/v1/api?q=1");

        Assert.Equal("/v1/api/instance/foo?q=1", ProxyForwardingTests.Header(response, "x-seen-path"));
    }

    private static readonly string[] EchoedHeaders = ["x-route-set", "x-dest-set", "x-added", "x-gone", "x-both"];

    [Fact]
    public async Task Headers_RouteAndDestinationLevel_RemoveSetAddOnRequestAndResponse()
    {
        await using var backend = await TestBackend.StartAsync("app", handler: async c =>
        {
            foreach (var name in EchoedHeaders)
            {
                c.Response.Headers["x-echo-" + name] = string.Join("|", c.Request.Headers[name].ToArray());
            }

            c.Response.Headers["x-upstream-secret"] = "s";
            c.Response.Headers["x-resp-both"] = "upstream";
            await c.Response.WriteAsync("ok");
        });
        await using var proxy = new ProxyUnderTest();
        var route = Route("app") with
        {
            Headers = new HeaderPolicy
            {
                Request = new HeaderOperations { Set = Map(("x-route-set", "r"), ("x-both", "route")), Add = Map(("x-added", "two")), Remove = ["x-gone"] },
                Response = new HeaderOperations { Remove = ["x-upstream-secret"], Set = Map(("x-resp-both", "route")) },
            },
            Destinations = [new WeightedCluster
            {
                Cluster = "app",
                Headers = new HeaderPolicy
                {
                    Request = new HeaderOperations { Set = Map(("x-dest-set", "d"), ("x-both", "dest")) },
                    Response = new HeaderOperations { Add = Map(("x-resp-dest", "d")), Set = Map(("x-resp-both", "dest")) },
                },
            }],
        };
        await proxy.ApplyAsync(OneRoute(route, backend.Port));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://svc/");
        request.Headers.Add("x-added", "one");
        request.Headers.Add("x-gone", "bye");
        request.Headers.Add("x-route-set", "client");
        using var response = await client.SendAsync(request);

        string H(string name) => ProxyForwardingTests.Header(response, name);
        // HttpClient sends the appended value on the same header line ("one, two"), which HTTP treats as two values.
        Assert.Equal(("r", "d", "one, two", "", "route"), (H("x-echo-x-route-set"), H("x-echo-x-dest-set"), H("x-echo-x-added"), H("x-echo-x-gone"), H("x-echo-x-both")));
        Assert.False(response.Headers.Contains("x-upstream-secret"));
        Assert.Equal(("d", "route"), (H("x-resp-dest"), H("x-resp-both")));
    }

    [Fact]
    public async Task Headers_ResponseOperations_NotAppliedToLocalReplies()
    {
        await using var proxy = new ProxyUnderTest();
        var route = Route("app") with { Headers = new HeaderPolicy { Response = new HeaderOperations { Set = Map(("x-route", "1")) } } };
        await proxy.ApplyAsync(ConfigOf([Outbound()], [Table("outbound", Host("svc", ["*"], route))], [new Cluster { Name = "app" }]));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var response = await client.GetAsync("http://svc/");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.False(response.Headers.Contains("x-route"));
    }

    private static CorsPolicy Cors() => new()
    {
        AllowOrigins = [Exact("https://example.com"), Regex(@"https://.*\.trusted\.io")],
        AllowMethods = ["POST", "GET"],
        AllowHeaders = ["X-Foo-Bar"],
        ExposeHeaders = ["X-Expose"],
        MaxAge = TimeSpan.FromHours(24),
        AllowCredentials = true,
    };

    private static async Task<(ProxyUnderTest Proxy, TestBackend Backend, Func<int> Calls)> CorsSetupAsync()
    {
        var calls = 0;
        var backend = await TestBackend.StartAsync("app", handler: async c =>
        {
            Interlocked.Increment(ref calls);
            await c.Response.WriteAsync("app");
        });
        var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(OneRoute(Route("app") with { Cors = Cors() }, backend.Port));
        return (proxy, backend, () => Volatile.Read(ref calls));
    }

    private static HttpRequestMessage Preflight(string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, "http://svc/api");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        return request;
    }

    [Fact]
    public async Task Cors_PreflightFromAllowedOrigin_AnsweredByTheProxy()
    {
        var (proxy, backend, calls) = await CorsSetupAsync();
        await using var _ = proxy;
        await using var __ = backend;

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var request = Preflight("https://a.trusted.io");
        using var response = await client.SendAsync(request);

        string H(string name) => ProxyForwardingTests.Header(response, name);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(("https://a.trusted.io", "POST,GET", "X-Foo-Bar", "86400", "true"),
            (H("access-control-allow-origin"), H("access-control-allow-methods"), H("access-control-allow-headers"), H("access-control-max-age"), H("access-control-allow-credentials")));
        Assert.Equal(0, calls());
    }

    [Fact]
    public async Task Cors_PreflightFromOtherOrigin_ForwardedWithoutCorsHeaders()
    {
        var (proxy, backend, calls) = await CorsSetupAsync();
        await using var _ = proxy;
        await using var __ = backend;

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var request = Preflight("https://evil.example");
        using var response = await client.SendAsync(request);

        Assert.Equal("app", await response.Content.ReadAsStringAsync());
        Assert.False(response.Headers.Contains("access-control-allow-origin"));
        Assert.Equal(1, calls());
    }

    [Theory]
    [InlineData("https://example.com", true)]
    [InlineData("https://example.org", false)]
    public async Task Cors_ActualRequest_AllowedOriginGetsCorsHeadersOthersPassWithout(string origin, bool allowed)
    {
        var (proxy, backend, _) = await CorsSetupAsync();
        await using var p = proxy;
        await using var b = backend;

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://svc/api");
        request.Headers.Add("Origin", origin);
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(allowed ? (origin, "true", "X-Expose") : ("", "", ""),
            (ProxyForwardingTests.Header(response, "access-control-allow-origin"), ProxyForwardingTests.Header(response, "access-control-allow-credentials"),
             ProxyForwardingTests.Header(response, "access-control-expose-headers")));
    }

    [Fact]
    public async Task Apply_BadRewriteRegexOrStatus_RejectedWithReason()
    {
        await using var proxy = new ProxyUnderTest();

        var badRegex = await proxy.Manager.ApplyAsync("v1", OneRoute(Route("app") with { Rewrite = new RewritePolicy { UriRegex = new RegexRewrite { Match = "(", Rewrite = "/" } } }), CancellationToken.None);
        var badStatus = await proxy.Manager.ApplyAsync("v2", OneRoute(ActionRoute("d") with { DirectResponse = new DirectResponseAction { Status = 42 } }), CancellationToken.None);
        var twoActions = await proxy.Manager.ApplyAsync("v3", OneRoute(Route("app") with { Redirect = new RedirectAction { Uri = "/x" } }), CancellationToken.None);
        var badCode = await proxy.Manager.ApplyAsync("v4", OneRoute(ActionRoute("r") with { Redirect = new RedirectAction { Uri = "/x", Code = 200 } }), CancellationToken.None);

        Assert.Contains("bad rewrite regex", badRegex, StringComparison.Ordinal);
        Assert.Contains("status 42 is out of range", badStatus, StringComparison.Ordinal);
        Assert.Contains("exactly one of destinations, redirect, directResponse", twoActions, StringComparison.Ordinal);
        Assert.Contains("redirect code 200", badCode, StringComparison.Ordinal);
        Assert.Null(proxy.Manager.Current);
    }
}
