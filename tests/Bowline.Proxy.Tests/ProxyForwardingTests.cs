using System.Net;
using Bowline.Api.Xds;
using Bowline.Proxy.Pipeline;
using Bowline.Proxy.Tests.Infrastructure;
using static Bowline.Proxy.Tests.Infrastructure.Configs;

namespace Bowline.Proxy.Tests;

public sealed class ProxyForwardingTests
{
    [Fact]
    public async Task Outbound_RequestThroughHttpProxy_RoutesByAuthorityAndForwardsOriginForm()
    {
        await using var reviews = await TestBackend.StartAsync("reviews");
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(ConfigOf(
            [Outbound()],
            [Table("outbound", Host("reviews", ["reviews", "reviews:9080"], Route("reviews")))],
            [Cluster("reviews", reviews.Port)]));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var response = await client.GetAsync("http://reviews:9080/reviews/0?x=1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("reviews", await response.Content.ReadAsStringAsync());
        Assert.Equal("reviews:9080", Header(response, "x-seen-host"));
        Assert.Equal("/reviews/0?x=1", Header(response, "x-seen-path"));
        Assert.True(Guid.TryParse(Header(response, "x-seen-request-id"), out _));
    }

    [Fact]
    public async Task Outbound_HeaderAndPrefixRules_PickTheFirstMatchingRoute()
    {
        await using var v1 = await TestBackend.StartAsync("v1");
        await using var v2 = await TestBackend.StartAsync("v2");
        await using var v3 = await TestBackend.StartAsync("v3");
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(ConfigOf(
            [Outbound()],
            [Table("outbound", Host("reviews", ["reviews:9080"],
                Route("v2", new RouteMatch { Headers = Headers(("end-user", Exact("jason"))) }),
                Route("v3", new RouteMatch { Uri = Prefix("/v3/") }),
                Route("v1")))],
            [Cluster("v1", v1.Port), Cluster("v2", v2.Port), Cluster("v3", v3.Port)]));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var jason = new HttpRequestMessage(HttpMethod.Get, "http://reviews:9080/reviews/0");
        jason.Headers.Add("end-user", "jason");

        Assert.Equal("v2", await (await client.SendAsync(jason)).Content.ReadAsStringAsync());
        Assert.Equal("v3", await client.GetStringAsync("http://reviews:9080/v3/x"));
        Assert.Equal("v1", await client.GetStringAsync("http://reviews:9080/reviews/0"));
    }

    [Fact]
    public async Task Outbound_FiftyFiftyWeights_SplitsWithinBounds()
    {
        await using var a = await TestBackend.StartAsync("a");
        await using var b = await TestBackend.StartAsync("b");
        await using var proxy = new ProxyUnderTest();
        var route = new Route
        {
            Destinations = [new WeightedCluster { Cluster = "a", Weight = 50 }, new WeightedCluster { Cluster = "b", Weight = 50 }],
        };
        await proxy.ApplyAsync(ConfigOf([Outbound()], [Table("outbound", Host("svc", ["*"], route))], [Cluster("a", a.Port), Cluster("b", b.Port)]));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        var countA = 0;
        const int Total = 400;
        for (var i = 0; i < Total; i++)
        {
            if (await client.GetStringAsync("http://svc/") == "a")
            {
                countA++;
            }
        }

        // Binomial(400, 0.5): 6 standard deviations either side of 200 is ±60.
        Assert.InRange(countA, 140, 260);
    }

    [Fact]
    public async Task Outbound_NoMatchingHostOrRoute_Returns404WithFlagNR()
    {
        await using var proxy = new ProxyUnderTest();
        await using var backend = await TestBackend.StartAsync("b");
        await proxy.ApplyAsync(ConfigOf(
            [Outbound()],
            [Table("outbound", Host("reviews", ["reviews:9080"], Route("b", new RouteMatch { Uri = Exact("/only") })))],
            [Cluster("b", backend.Port)]));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var noHost = await SendAsync(client, "http://ratings:9080/", "nr-host");
        using var noRoute = await SendAsync(client, "http://reviews:9080/other", "nr-route");

        Assert.Equal(HttpStatusCode.NotFound, noHost.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, noRoute.StatusCode);
        Assert.Equal(ResponseFlags.NoRoute, await proxy.FlagsOfAsync("nr-host"));
        Assert.Equal(ResponseFlags.NoRoute, await proxy.FlagsOfAsync("nr-route"));
    }

    [Fact]
    public async Task Outbound_ClusterWithoutEndpoints_Returns503WithFlagUH()
    {
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(ConfigOf([Outbound()], [Table("outbound", Host("svc", ["*"], Route("empty")))], [Cluster("empty")]));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var response = await SendAsync(client, "http://svc/", "uh");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("no healthy upstream", await response.Content.ReadAsStringAsync());
        Assert.Equal(ResponseFlags.NoHealthyUpstream, await proxy.FlagsOfAsync("uh"));
    }

    [Fact]
    public async Task Outbound_EndpointRefusesConnection_Returns503WithFlagUF()
    {
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(ConfigOf([Outbound()], [Table("outbound", Host("svc", ["*"], Route("dead")))], [Cluster("dead", FreePort.Get())]));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var response = await SendAsync(client, "http://svc/", "uf");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("upstream connect error or disconnect/reset before headers. reset reason: connection failure", await response.Content.ReadAsStringAsync());
        Assert.Equal(ResponseFlags.UpstreamConnectionFailure, await proxy.FlagsOfAsync("uf"));
    }

    [Fact]
    public async Task Outbound_UpstreamSlowerThanRouteTimeout_Returns504WithFlagUT()
    {
        await using var slow = await TestBackend.StartAsync("slow", handler: c => Task.Delay(TimeSpan.FromSeconds(10), c.RequestAborted));
        await using var proxy = new ProxyUnderTest();
        var route = Route("slow") with { Timeout = TimeSpan.FromMilliseconds(200) };
        await proxy.ApplyAsync(ConfigOf([Outbound()], [Table("outbound", Host("svc", ["*"], route))], [Cluster("slow", slow.Port)]));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var response = await SendAsync(client, "http://svc/", "ut");

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("upstream request timeout", await response.Content.ReadAsStringAsync());
        Assert.Equal(ResponseFlags.UpstreamRequestTimeout, await proxy.FlagsOfAsync("ut"));
    }

    [Fact]
    public async Task Outbound_RetriesOnConnectFailure_ReachesTheHealthyEndpoint()
    {
        await using var healthy = await TestBackend.StartAsync("healthy");
        await using var proxy = new ProxyUnderTest();
        var route = Route("mixed") with { Retries = new RetryPolicy { Attempts = 2, RetryOn = "connect-failure" } };
        await proxy.ApplyAsync(ConfigOf([Outbound()], [Table("outbound", Host("svc", ["*"], route))], [Cluster("mixed", FreePort.Get(), healthy.Port)]));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        for (var i = 0; i < 6; i++)
        {
            using var response = await client.GetAsync("http://svc/");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task Outbound_RetriesOn5xxExhausted_ForwardsLastResponseWithFlagURX()
    {
        var calls = 0;
        await using var failing = await TestBackend.StartAsync("failing", handler: c =>
        {
            Interlocked.Increment(ref calls);
            c.Response.StatusCode = 503;
            return Task.CompletedTask;
        });
        await using var proxy = new ProxyUnderTest();
        var route = Route("failing") with { Retries = new RetryPolicy { Attempts = 2, RetryOn = "5xx" } };
        await proxy.ApplyAsync(ConfigOf([Outbound()], [Table("outbound", Host("svc", ["*"], route))], [Cluster("failing", failing.Port)]));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var response = await SendAsync(client, "http://svc/", "urx");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(3, calls);
        Assert.Equal(ResponseFlags.UpstreamRetryLimitExceeded, await proxy.FlagsOfAsync("urx"));
    }

    [Fact]
    public async Task Outbound_RetriesOn5xxWithABodyBeyondTheRetryBuffer_DoesNotReplayIt()
    {
        var calls = 0;
        await using var failing = await TestBackend.StartAsync("failing", handler: async c =>
        {
            Interlocked.Increment(ref calls);
            await c.Request.Body.CopyToAsync(Stream.Null);
            c.Response.StatusCode = 503;
        });
        await using var proxy = new ProxyUnderTest();
        var route = Route("failing") with { Retries = new RetryPolicy { Attempts = 2, RetryOn = "5xx" } };
        await proxy.ApplyAsync(ConfigOf([Outbound()], [Table("outbound", Host("svc", ["*"], route))], [Cluster("failing", failing.Port)]));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var response = await client.PostAsync("http://svc/", new ByteArrayContent(new byte[Bowline.Proxy.Forwarding.RequestBodyReplay.Limit * 2]));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task Inbound_AnyRequest_GoesToTheLocalAppKeepingHostAndTraceHeaders()
    {
        await using var app = await TestBackend.StartAsync("app");
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(ConfigOf([Inbound("inbound|9080", "inbound|9080||")], [], [Cluster("inbound|9080||", app.Port)]));

        using var client = Clients.Direct();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(proxy.ListenerUri("inbound|9080"), "/anything"));
        request.Headers.Host = "reviews:9080";
        request.Headers.Add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        request.Headers.Add("x-request-id", "given-id");
        request.Headers.Add("Connection", "x-hop");
        request.Headers.Add("x-hop", "should not pass");
        using var response = await client.SendAsync(request);

        Assert.Equal("app", await response.Content.ReadAsStringAsync());
        Assert.Equal("reviews:9080", Header(response, "x-seen-host"));
        Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", Header(response, "x-seen-traceparent"));
        Assert.Equal("given-id", Header(response, "x-seen-request-id"));
        Assert.Equal("", Header(response, "x-seen-connection-header"));
    }

    internal static async Task<HttpResponseMessage> SendAsync(HttpClient client, string url, string testId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add("x-test-id", testId);
        return await client.SendAsync(request);
    }

    internal static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : "";
}
