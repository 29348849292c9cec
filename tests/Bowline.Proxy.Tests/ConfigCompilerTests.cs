using Bowline.Api.Xds;
using Bowline.Proxy.Config;
using static Bowline.Proxy.Tests.Infrastructure.Configs;

namespace Bowline.Proxy.Tests;

public sealed class ConfigCompilerTests
{
    private static readonly RouteTable GoodTable = Table("outbound", Host("svc", ["*"], Route("c")));

    [Fact]
    public void Compile_ConsistentConfig_ResolvesListenersToTablesAndClusters()
    {
        var compiled = ConfigCompiler.Compile(ConfigOf([Outbound(), Inbound("in", "c")], [GoodTable], [Cluster("c", 1)]));

        Assert.Equal("outbound", compiled.Listeners[0].RouteTable?.Name);
        Assert.Equal("c", compiled.Listeners[1].Cluster?.Name);
    }

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public void Compile_InconsistentConfig_ThrowsNamingTheProblem(ProxyConfig config, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigCompiler.Compile(config));

        Assert.Contains(expected, e.Message);
    }

    public static TheoryData<ProxyConfig, string> BadConfigs() => new()
    {
        { ConfigOf([Outbound(table: "nope")], [GoodTable], [Cluster("c", 1)]), "listener outbound: unknown route table 'nope'" },
        { ConfigOf([Inbound("in", "nope")], [], []), "listener in: unknown cluster 'nope'" },
        { ConfigOf([Outbound()], [GoodTable], []), "unknown cluster 'c'" },
        { ConfigOf([Outbound(), Outbound()], [GoodTable], [Cluster("c", 1)]), "duplicate or empty listener name 'outbound'" },
        { ConfigOf([Outbound("a", port: 8080), Outbound("b", port: 8080)], [GoodTable], [Cluster("c", 1)]), "listener b: duplicate address 127.0.0.1:8080" },
        { ConfigOf([Outbound()], [Table("outbound", Host("svc", ["*"], Route("c", new RouteMatch { Uri = Regex("[a-") })))], [Cluster("c", 1)]), "bad regex '[a-'" },
        { ConfigOf([Outbound()], [GoodTable, GoodTable], [Cluster("c", 1)]), "duplicate route table outbound" },
        { ConfigOf([Outbound()], [GoodTable], [Cluster("c", 1), Cluster("c", 2)]), "duplicate cluster c" },
        { ConfigOf([Outbound() with { Address = "localhost" }], [GoodTable], [Cluster("c", 1)]), "listener outbound: bad address localhost:0" },
        { ConfigOf([Outbound()], [Table("outbound", Host("svc", ["*"], Route("c") with { Retries = new RetryPolicy { Attempts = 1, RetryOn = "sometimes" } }))], [Cluster("c", 1)]), "unknown retryOn condition 'sometimes'" },
        { ConfigOf([Outbound()], [Table("outbound", Host("svc", ["*"], Route("c") with { Mirrors = [new MirrorPolicy { Cluster = "nope" }] }))], [Cluster("c", 1)]), "unknown mirror cluster 'nope'" },
        { ConfigOf([Outbound()], [Table("outbound", Host("svc", ["*"], Route("c") with { Mirrors = [new MirrorPolicy { Cluster = "c", Percentage = 100.5 }] }))], [Cluster("c", 1)]), "mirror c: percentage 100.5 is out of range 0-100" },
        { ConfigOf([Outbound()], [Table("outbound", Host("svc", ["*"], Route("c") with { Mirrors = [new MirrorPolicy { Cluster = "c", Percentage = -1 }] }))], [Cluster("c", 1)]), "mirror c: percentage -1 is out of range 0-100" },
        { ConfigOf([Outbound()], [Table("outbound", Host("svc", ["*"], new Route { DirectResponse = new DirectResponseAction { Status = 200 }, Mirrors = [new MirrorPolicy { Cluster = "c" }] }))], [Cluster("c", 1)]), "mirrors need a route with destinations" },
    };

    [Fact]
    public void Compile_PortZeroListeners_MayShareTheAddress()
    {
        var compiled = ConfigCompiler.Compile(ConfigOf([Outbound("a"), Outbound("b")], [GoodTable], [Cluster("c", 1)]));

        Assert.Equal(2, compiled.Listeners.Count);
    }
}
