using System.Net;
using System.Net.Sockets;
using Bowline.Api.Xds;
using Bowline.Proxy.Tests.Infrastructure;
using static Bowline.Proxy.Tests.Infrastructure.Configs;

namespace Bowline.Proxy.Tests;

public sealed class ConfigApplyTests
{
    [Fact]
    public async Task ApplyAsync_ListenerPortAlreadyBound_NacksNamingListenerAndKeepsOldConfigServing()
    {
        await using var v1 = await TestBackend.StartAsync("v1");
        await using var v2 = await TestBackend.StartAsync("v2");
        using var squatter = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        squatter.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        squatter.Listen();
        var busyPort = ((IPEndPoint)squatter.LocalEndPoint!).Port;

        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(ConfigOf([Outbound()], [Table("outbound", Host("svc", ["*"], Route("c")))], [Cluster("c", v1.Port)]), "v1");
        var extraListenerPort = FreePort.Get();

        var error = await proxy.Manager.ApplyAsync("v2", ConfigOf(
            [Outbound(), Outbound("extra", port: extraListenerPort), Outbound("gateway|8080", port: busyPort)],
            [Table("outbound", Host("svc", ["*"], Route("c")))],
            [Cluster("c", v2.Port)]), CancellationToken.None);

        Assert.Equal($"listener gateway|8080: cannot bind 127.0.0.1:{busyPort}: address already in use", error);
        Assert.Equal("v1", proxy.Manager.CurrentVersion);
        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        Assert.Equal("v1", await client.GetStringAsync("http://svc/"));

        // The listener bound before the failure was released again: nothing answers there.
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await Assert.ThrowsAnyAsync<SocketException>(() => probe.ConnectAsync(IPAddress.Loopback, extraListenerPort));
    }

    [Fact]
    public async Task ApplyAsync_InconsistentConfig_NacksAndKeepsOldConfig()
    {
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(ConfigOf([Outbound()], [Table("outbound", Host("svc", ["*"], Route("c")))], [Cluster("c", 1)]), "v1");

        var error = await proxy.Manager.ApplyAsync("v2", ConfigOf([Outbound()], [Table("outbound", Host("svc", ["*"], Route("missing")))], []), CancellationToken.None);

        Assert.NotNull(error);
        Assert.Contains("unknown cluster 'missing'", error);
        Assert.Equal("v1", proxy.Manager.CurrentVersion);
    }

    [Fact]
    public async Task ApplyAsync_ConfigsSwappedUnderConcurrentLoad_NoRequestFails()
    {
        await using var blue = await TestBackend.StartAsync("blue");
        await using var green = await TestBackend.StartAsync("green");
        await using var proxy = new ProxyUnderTest();
        ProxyConfig ConfigTo(string cluster) => ConfigOf(
            [Outbound()],
            [Table("outbound", Host("svc", ["*"], Route(cluster)))],
            [Cluster("blue", blue.Port), Cluster("green", green.Port)]);
        await proxy.ApplyAsync(ConfigTo("blue"), "v0");

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var stop = new CancellationTokenSource();
        var seen = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var failures = 0;
        var requests = 0;
        var load = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await client.GetAsync("http://svc/");
                Interlocked.Increment(ref requests);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Interlocked.Increment(ref failures);
                }

                seen.AddOrUpdate(await response.Content.ReadAsStringAsync(), 1, (_, n) => n + 1);
            }
        })).ToList();

        for (var i = 1; i <= 20; i++)
        {
            await proxy.ApplyAsync(ConfigTo(i % 2 == 0 ? "blue" : "green"), $"v{i}");
            await Task.Delay(10);
        }

        await stop.CancelAsync();
        await Task.WhenAll(load);

        Assert.Equal(0, failures);
        Assert.True(requests > 20, $"only {requests} requests ran");
        Assert.True(seen.ContainsKey("blue") && seen.ContainsKey("green"));
    }

    [Fact]
    public async Task ApplyAsync_ListenerRemoved_StopsServingItAndKeepsTheOthers()
    {
        await using var backend = await TestBackend.StartAsync("b");
        await using var proxy = new ProxyUnderTest();
        var table = Table("outbound", Host("svc", ["*"], Route("c")));
        await proxy.ApplyAsync(ConfigOf([Outbound(), Outbound("second")], [table], [Cluster("c", backend.Port)]), "v1");
        var outbound = proxy.ListenerEndpoint("outbound");
        var second = proxy.ListenerEndpoint("second");

        await proxy.ApplyAsync(ConfigOf([Outbound()], [table], [Cluster("c", backend.Port)]), "v2");

        Assert.Equal(outbound, proxy.ListenerEndpoint("outbound"));
        using var client = Clients.ViaProxy(new Uri($"http://{outbound}"));
        Assert.Equal("b", await client.GetStringAsync("http://svc/"));
        await Polling.UntilAsync(async () =>
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await probe.ConnectAsync(second);
                return false;
            }
            catch (SocketException)
            {
                return true;
            }
        });
    }

    [Fact]
    public async Task ApplyAsync_ListenerRenamedOnSamePort_KeepsThePortAndServesTheNewConfig()
    {
        await using var backend = await TestBackend.StartAsync("b");
        await using var proxy = new ProxyUnderTest();
        var port = FreePort.Get();
        await proxy.ApplyAsync(ConfigOf([Inbound("inbound|old", "app", port)], [], [Cluster("app", backend.Port)]), "v1");

        await proxy.ApplyAsync(ConfigOf([Inbound("inbound|new", "app", port)], [], [Cluster("app", backend.Port)]), "v2");

        using var client = Clients.Direct();
        Assert.Equal("b", await client.GetStringAsync($"http://127.0.0.1:{port}/"));
        Assert.Equal(port, proxy.ListenerEndpoint("inbound|new").Port);
    }
}
