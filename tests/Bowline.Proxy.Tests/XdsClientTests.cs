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
