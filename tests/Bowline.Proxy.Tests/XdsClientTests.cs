using Bowline.Api.Xds;
using Bowline.Proxy.Tests.Infrastructure;
using Bowline.Proxy.Xds;
using Microsoft.Extensions.Logging.Abstractions;
using static Bowline.Proxy.Tests.Infrastructure.Configs;

namespace Bowline.Proxy.Tests;

public sealed class XdsClientTests
{
    private static readonly Node Node = new() { Id = "reviews-v1-0.default", Pod = "reviews-v1-0", Namespace = "default" };

    [Fact]
    public async Task RunAsync_Pushes_AcksGoodConfigNacksBadOneAndReconnectsAfterDrop()
    {
        await using var backend = await TestBackend.StartAsync("b");
        await using var controlPlane = await FakeControlPlane.StartAsync();
        await using var proxy = new ProxyUnderTest();
        var options = new XdsClientOptions(controlPlane.Url, Node) { InitialBackoff = TimeSpan.FromMilliseconds(20), MaxBackoff = TimeSpan.FromMilliseconds(200) };
        var client = new XdsClient(options, proxy.Manager, TimeProvider.System, NullLogger<XdsClient>.Instance);
        using var stop = new CancellationTokenSource();
        var running = client.RunAsync(stop.Token);

        // First request: node, no version, no nonce.
        var stream = await controlPlane.NextStreamAsync();
        var first = await stream.ReceiveAsync();
        Assert.Equal(Node, first.Node);
        Assert.Null(first.VersionInfo);
        Assert.Null(first.ResponseNonce);

        // A good config: applied, then ACKed with its version and nonce.
        var good = ConfigOf([Outbound()], [Table("outbound", Host("svc", ["*"], Route("c")))], [Cluster("c", backend.Port)]);
        await stream.SendAsync(new DiscoveryResponse { Version = "aaaaaaaaaaaa", Nonce = "n1", Config = good });
        var ack = await stream.ReceiveAsync();
        Assert.Equal(("aaaaaaaaaaaa", "n1", (string?)null), (ack.VersionInfo, ack.ResponseNonce, ack.ErrorDetail));
        using var http = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        Assert.Equal("b", await http.GetStringAsync("http://svc/"));

        // A bad config: NACKed with the reason and the version still in use.
        var bad = good with { RouteTables = [Table("outbound", Host("svc", ["*"], Route("c", new RouteMatch { Uri = Regex("(") })))] };
        await stream.SendAsync(new DiscoveryResponse { Version = "bbbbbbbbbbbb", Nonce = "n2", Config = bad });
        var nack = await stream.ReceiveAsync();
        Assert.Equal(("aaaaaaaaaaaa", "n2"), (nack.VersionInfo, nack.ResponseNonce));
        Assert.Contains("bad regex", nack.ErrorDetail);
        Assert.Equal("b", await http.GetStringAsync("http://svc/"));

        // The control plane drops the stream: serving goes on, and the client comes back with its version.
        stream.Abort();
        Assert.Equal("b", await http.GetStringAsync("http://svc/"));
        var again = await controlPlane.NextStreamAsync();
        var hello = await again.ReceiveAsync();
        Assert.Equal(("aaaaaaaaaaaa", (string?)null), (hello.VersionInfo, hello.ResponseNonce));
        Assert.Equal("b", await http.GetStringAsync("http://svc/"));

        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(10));
        again.Abort();
    }

    [Fact]
    public async Task RunAsync_Delta_AppliedOntoCurrentAndCheckedAgainstItsVersion()
    {
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2");
        await using var controlPlane = await FakeControlPlane.StartAsync();
        await using var proxy = new ProxyUnderTest();
        var options = new XdsClientOptions(controlPlane.Url, Node) { InitialBackoff = TimeSpan.FromMilliseconds(20), MaxBackoff = TimeSpan.FromMilliseconds(200) };
        var client = new XdsClient(options, proxy.Manager, TimeProvider.System, NullLogger<XdsClient>.Instance);
        using var stop = new CancellationTokenSource();
        var running = client.RunAsync(stop.Token);
        var stream = await controlPlane.NextStreamAsync();
        await stream.ReceiveAsync();

        var whole = ConfigOf([Outbound()], [Table("outbound", Host("svc", ["*"], Route("c1")))], [Cluster("c1", b1.Port), Cluster("gone", b1.Port)]);
        var v1 = ConfigVersion.Of(whole);
        await stream.SendAsync(new DiscoveryResponse { Version = v1, Nonce = "n1", Config = whole });
        Assert.Null((await stream.ReceiveAsync()).ErrorDetail);
        using var http = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        Assert.Equal("b1", await http.GetStringAsync("http://svc/"));

        // A delta: one virtual host replaced, one cluster added, one removed. ACKed with the resulting version.
        var delta = new ConfigDelta
        {
            BaseVersion = v1,
            Clusters = [Cluster("c2", b2.Port)],
            VirtualHosts = [new VirtualHostPatch { RouteTable = "outbound", VirtualHosts = [Host("svc", ["*"], Route("c2"))] }],
            RemovedClusters = ["gone"],
        };
        var v2 = ConfigVersion.Of(whole with
        {
            RouteTables = [Table("outbound", Host("svc", ["*"], Route("c2")))],
            Clusters = [Cluster("c1", b1.Port), Cluster("c2", b2.Port)],
        });
        await stream.SendAsync(new DiscoveryResponse { Version = v2, Nonce = "n2", Delta = delta });
        var ack = await stream.ReceiveAsync();
        Assert.Equal((v2, "n2", (string?)null), (ack.VersionInfo, ack.ResponseNonce, ack.ErrorDetail));
        Assert.Equal("b2", await http.GetStringAsync("http://svc/"));

        // A delta whose result is not the version it claims, and one from another base: NACKed, nothing changes.
        var back = delta with { BaseVersion = v2, VirtualHosts = [new VirtualHostPatch { RouteTable = "outbound", VirtualHosts = [Host("svc", ["*"], Route("c1"))] }], Clusters = [], RemovedClusters = [] };
        await stream.SendAsync(new DiscoveryResponse { Version = "000000000000", Nonce = "n3", Delta = back });
        var nack = await stream.ReceiveAsync();
        Assert.Equal((v2, "n3"), (nack.VersionInfo, nack.ResponseNonce));
        Assert.Contains("not 000000000000", nack.ErrorDetail);
        await stream.SendAsync(new DiscoveryResponse { Version = v1, Nonce = "n4", Delta = back with { BaseVersion = v1 } });
        nack = await stream.ReceiveAsync();
        Assert.Contains($"running {v2}", nack.ErrorDetail);
        Assert.Equal("b2", await http.GetStringAsync("http://svc/"));

        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(10));
        stream.Abort();
    }

    [Fact]
    public async Task RunAsync_ControlPlaneNotUpYet_KeepsRetryingUntilItIs()
    {
        var port = FreePort.Get();
        await using var proxy = new ProxyUnderTest();
        var options = new XdsClientOptions(new Uri($"http://127.0.0.1:{port}"), Node) { InitialBackoff = TimeSpan.FromMilliseconds(20), MaxBackoff = TimeSpan.FromMilliseconds(100) };
        var client = new XdsClient(options, proxy.Manager, TimeProvider.System, NullLogger<XdsClient>.Instance);
        using var stop = new CancellationTokenSource();
        var startedAt = DateTime.UtcNow;
        var running = client.RunAsync(stop.Token);

        // Let a few connection attempts fail first, then bring the control plane up where the client looks.
        await Polling.UntilAsync(() => running.IsCompleted || DateTime.UtcNow > startedAt.AddMilliseconds(300));
        Assert.False(running.IsCompleted);
        await using var controlPlane = await FakeControlPlane.StartAsync(port);
        var stream = await controlPlane.NextStreamAsync();
        Assert.Equal(Node, (await stream.ReceiveAsync()).Node);

        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(10));
        stream.Abort();
    }
}
