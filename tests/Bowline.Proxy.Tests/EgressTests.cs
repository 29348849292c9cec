using System.Net;
using Bowline.Api.Xds;
using Bowline.Proxy.Config;
using Bowline.Proxy.Pipeline;
using Bowline.Proxy.Tests.Infrastructure;
using static Bowline.Proxy.Tests.Infrastructure.Configs;

namespace Bowline.Proxy.Tests;

/// <summary>Traffic to hosts outside the registry (allow_any / block_all) and ServiceEntry-shaped clusters, over real sockets.</summary>
public sealed class EgressTests
{
    private static readonly Cluster Passthrough = new() { Name = EgressNames.PassthroughCluster, Type = ClusterType.OriginalDestination };

    private static readonly VirtualHost AllowAny = Host(EgressNames.AllowAny, ["*"], Route(EgressNames.PassthroughCluster) with { Name = EgressNames.AllowAny });

    private static readonly VirtualHost BlockAll = Host(EgressNames.BlockAll, ["*"],
        new Route { Name = EgressNames.BlockAll, DirectResponse = new DirectResponseAction { Status = 502 } });

    private static HttpRequestMessage Get(string url, string testId)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add("x-test-id", testId);
        return request;
    }

    [Fact]
    public async Task AllowAny_UnknownHost_IsForwardedToTheHostAndPortTheAppAsked()
    {
        await using var external = await TestBackend.StartAsync("external");
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(ConfigOf([Outbound()], [Table("outbound", AllowAny)], [Passthrough]));
        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));

        using var byAddress = await client.SendAsync(Get($"http://127.0.0.1:{external.Port}/status/200?q=1", "ip"));
        // A name is resolved by the proxy when it connects, as the app would have.
        using var byName = await client.SendAsync(Get($"http://localhost:{external.Port}/by-name", "name"));

        Assert.Equal(HttpStatusCode.OK, byAddress.StatusCode);
        Assert.Equal("external", await byAddress.Content.ReadAsStringAsync());
        Assert.Equal($"127.0.0.1:{external.Port}", byAddress.Headers.GetValues("x-seen-host").Single());
        Assert.Equal("/status/200?q=1", byAddress.Headers.GetValues("x-seen-path").Single());
        Assert.Equal(HttpStatusCode.OK, byName.StatusCode);
        Assert.Equal($"localhost:{external.Port}", byName.Headers.GetValues("x-seen-host").Single());
        Assert.Equal(EgressNames.PassthroughCluster, await ClusterOfAsync(proxy, "ip"));
        Assert.Equal(2, proxy.Manager.Egress.Passthrough);
        Assert.Equal(0, proxy.Manager.Egress.BlackHole);
    }

    [Fact]
    public async Task AllowAny_KnownHostsStillRouteToTheirClusters_AndNothingListeningIs503UF()
    {
        await using var reviews = await TestBackend.StartAsync("reviews");
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(ConfigOf(
            [Outbound()],
            [Table("outbound", Host("reviews", ["reviews:9080"], Route("reviews")), AllowAny)],
            [Cluster("reviews", reviews.Port), Passthrough]));
        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        var closed = FreePort.Get();

        using var known = await client.SendAsync(Get("http://reviews:9080/", "known"));
        using var refused = await client.SendAsync(Get($"http://127.0.0.1:{closed}/", "refused"));

        Assert.Equal("reviews", await known.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal(ResponseFlags.UpstreamConnectionFailure, (await proxy.FlagsOfAsync("refused")) & ResponseFlags.UpstreamConnectionFailure);
        Assert.Equal(1, proxy.Manager.Egress.Passthrough);
    }

    [Fact]
    public async Task AllowAny_ARequestNamingTheListenerItself_IsNotLoopedBack()
    {
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(ConfigOf([Outbound()], [Table("outbound", AllowAny)], [Passthrough]));
        var self = proxy.ListenerEndpoint("outbound");
        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));

        using var response = await client.SendAsync(Get($"http://127.0.0.1:{self.Port}/", "self"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(ResponseFlags.NoHealthyUpstream, await proxy.FlagsOfAsync("self"));
    }

    [Fact]
    public async Task RegistryOnly_UnknownHost_Is502FromBlockAll_ReportedAsBlackHoleCluster_AndCounted()
    {
        await using var external = await TestBackend.StartAsync("external");
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(ConfigOf([Outbound()], [Table("outbound", BlockAll)], []));
        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));

        using var response = await client.SendAsync(Get($"http://127.0.0.1:{external.Port}/", "blocked"));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.False(response.Headers.Contains("x-backend"));
        // Envoy answers block_all with a direct response: no response flag; Istio's metrics name the BlackHoleCluster.
        Assert.Equal(ResponseFlags.None, await proxy.FlagsOfAsync("blocked"));
        Assert.Equal(EgressNames.BlackHoleCluster, await ClusterOfAsync(proxy, "blocked"));
        Assert.Equal(1, proxy.Manager.Egress.BlackHole);
        Assert.Equal(0, proxy.Manager.Egress.Passthrough);
    }

    [Fact]
    public async Task StaticEndpoints_WeightsShareRequestsInProportion()
    {
        await using var heavy = await TestBackend.StartAsync("heavy");
        await using var light = await TestBackend.StartAsync("light");
        await using var proxy = new ProxyUnderTest();
        var cluster = new Cluster
        {
            Name = "outbound|80||api.example.com",
            Endpoints =
            [
                new Endpoint { Address = "127.0.0.1", Port = heavy.Port, Weight = 3 },
                new Endpoint { Address = "127.0.0.1", Port = light.Port, Weight = 1 },
            ],
        };
        await proxy.ApplyAsync(ConfigOf([Outbound()], [Table("outbound", Host("api", ["api.example.com"], Route(cluster.Name)))], [cluster]));
        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));

        var seen = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            seen.Add(await client.GetStringAsync("http://api.example.com/"));
        }

        // Round robin over a 3:1 schedule: exact counts, whatever the timing.
        Assert.Equal(6, seen.Count(s => s == "heavy"));
        Assert.Equal(2, seen.Count(s => s == "light"));
    }

    [Fact]
    public async Task DnsEndpoint_NameIsResolvedByTheProxy_HostHeaderIsTheApps()
    {
        await using var external = await TestBackend.StartAsync("external");
        await using var proxy = new ProxyUnderTest();
        var cluster = new Cluster { Name = "outbound|80||api.example.com", Endpoints = [new Endpoint { Address = "localhost", Port = external.Port }] };
        await proxy.ApplyAsync(ConfigOf([Outbound()], [Table("outbound", Host("api", ["api.example.com"], Route(cluster.Name)))], [cluster]));
        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));

        using var response = await client.GetAsync("http://api.example.com/x");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("api.example.com", response.Headers.GetValues("x-seen-host").Single());
    }

    [Fact]
    public void Compile_OriginalDestinationWithEndpoints_OrNegativeWeight_IsRejected()
    {
        var withEndpoints = Passthrough with { Endpoints = [new Endpoint { Address = "127.0.0.1", Port = 1 }] };
        var negative = Cluster("c", 1) with { Endpoints = [new Endpoint { Address = "127.0.0.1", Port = 1, Weight = -1 }] };

        Assert.Contains("original-destination", Assert.Throws<ConfigException>(() => ConfigCompiler.Compile(ConfigOf([], [], [withEndpoints]))).Message, StringComparison.Ordinal);
        Assert.Contains("negative weight", Assert.Throws<ConfigException>(() => ConfigCompiler.Compile(ConfigOf([], [], [negative]))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compile_ClusterWithDnsNamedEndpoints_GetsItsOwnPool_OthersShareOne()
    {
        var compiled = ConfigCompiler.Compile(ConfigOf([], [], [
            new Cluster { Name = "named", Endpoints = [new Endpoint { Address = "localhost", Port = 1 }] },
            Cluster("ip", 1),
        ]));

        // Its connections live DnsRefresh at most, so the name is resolved again that often.
        Assert.NotNull(compiled.Clusters.Single(c => c.Name == "named").Client);
        Assert.Null(compiled.Clusters.Single(c => c.Name == "ip").Client);
    }

    private static async Task<string?> ClusterOfAsync(ProxyUnderTest proxy, string testId)
    {
        await proxy.FlagsOfAsync(testId);
        return proxy.ClusterNames[testId];
    }
}
