using System.Net.WebSockets;
using Bowline.Api.Xds;
using Bowline.ControlPlane.Generation;

namespace Bowline.ControlPlane.Tests.Push;

public sealed class PushTests
{
    private const string Productpage = "productpage-v1-0.default";
    private const string GatewayId = "istio-ingressgateway-0.istio-system";

    private static async Task<ControlPlaneFixture> StartWithBookinfoAsync()
    {
        var f = await ControlPlaneFixture.StartAsync();
        var (status, result) = await f.ApplyAsync(Bookinfo.All, "bookinfo.yaml");
        Assert.True(status == System.Net.HttpStatusCode.OK, string.Join("\n", result.Errors));
        return f;
    }

    private static string ReviewsSplit(int v1) =>
        Bookinfo.ReviewsRoutes.Replace("weight: 50\n    - destination: {host: reviews, subset: v3}\n      weight: 50",
            $"weight: {v1}\n    - destination: {{host: reviews, subset: v3}}\n      weight: {100 - v1}", StringComparison.Ordinal);

    [Fact]
    public async Task Connect_KnownPod_ReceivesInitialConfig()
    {
        await using var f = await StartWithBookinfoAsync();
        await using var client = await XdsTestClient.ConnectAsync(f.BaseAddress, "productpage-v1-0");

        var r = await client.WaitForResponseAsync();

        Assert.Equal(ProxyConfigGenerator.VersionOf(r.Config!), r.Version);
        Assert.Contains(r.Config!.Listeners, l => l.Name == "outbound");
        Assert.False(string.IsNullOrEmpty(r.Nonce));
    }

    [Fact]
    public async Task Ack_LatestVersion_ProxySynced()
    {
        await using var f = await StartWithBookinfoAsync();
        await using var client = await XdsTestClient.ConnectAsync(f.BaseAddress, "productpage-v1-0");
        var r = await client.WaitForResponseAsync();

        await Wait.UntilAsync(async () => (await f.ProxyAsync(Productpage)).State == "SYNCED", "SYNCED");

        var s = await f.ProxyAsync(Productpage);
        Assert.Equal((r.Version, r.Version, "productpage-v1", "default", "127.0.0.1:20003"), (s.Version, s.LatestVersion, s.Workload, s.Namespace, s.Admin));
        Assert.Null(s.Error);
    }

    [Fact]
    public async Task Nack_LatestVersion_ProxyNackedWithReason()
    {
        await using var f = await StartWithBookinfoAsync();
        await using var client = await XdsTestClient.ConnectAsync(f.BaseAddress, "productpage-v1-0", autoAck: false);
        var r = await client.WaitForResponseAsync();

        await client.NackAsync(r, null, "listener outbound: port in use");

        await Wait.UntilAsync(async () => (await f.ProxyAsync(Productpage)).State == "NACKED", "NACKED");
        var s = await f.ProxyAsync(Productpage);
        Assert.Equal(("listener outbound: port in use", null, r.Version), (s.Error, s.Version, s.LatestVersion));
    }

    [Fact]
    public async Task Status_ChangeStillDebouncing_ReportsStaleNotSynced()
    {
        // A debounce far longer than the test: the change is applied but not yet pushed to anyone.
        await using var f = await ControlPlaneFixture.StartAsync(debounce: TimeSpan.FromMinutes(5));
        var (applied, _) = await f.ApplyAsync(Bookinfo.All, "bookinfo.yaml");
        Assert.Equal(System.Net.HttpStatusCode.OK, applied);
        await using var client = await XdsTestClient.ConnectAsync(f.BaseAddress, "productpage-v1-0");
        var r = await client.WaitForResponseAsync();
        await Wait.UntilAsync(async () => (await f.ProxyAsync(Productpage)).State == "SYNCED", "SYNCED");

        var (status, _) = await f.ApplyAsync(ReviewsSplit(80));
        Assert.Equal(System.Net.HttpStatusCode.OK, status);

        var s = await f.ProxyAsync(Productpage);
        Assert.Equal(("STALE", r.Version), (s.State, s.Version));
        Assert.NotEqual(r.Version, s.LatestVersion);
        Assert.Single(client.Responses);
    }

    [Fact]
    public async Task Connect_UnknownPod_ClosedWithReason()
    {
        await using var f = await StartWithBookinfoAsync();
        await using var client = await XdsTestClient.ConnectAsync(f.BaseAddress, "nobody-0");

        var (status, description) = await client.Closed.Task.WaitAsync(Wait.Deadline);

        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        Assert.Contains("unknown proxy nobody-0.default", description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Apply_ReviewsRuleChange_PushesSidecarsNotGateway()
    {
        await using var f = await StartWithBookinfoAsync();
        await using var sidecar = await XdsTestClient.ConnectAsync(f.BaseAddress, "productpage-v1-0");
        await using var gateway = await XdsTestClient.ConnectAsync(f.BaseAddress, "istio-ingressgateway-0", "istio-system");
        var first = await sidecar.WaitForResponseAsync();
        var gw = await gateway.WaitForResponseAsync();
        var rounds = f.Cp.Xds.Rounds;

        var (status, _) = await f.ApplyAsync(Bookinfo.ReviewsRule.Replace("{version: v3}", "{version: v3, track: stable}", StringComparison.Ordinal));
        Assert.Equal(System.Net.HttpStatusCode.OK, status);

        var second = await sidecar.WaitForResponseAsync(2);
        Assert.NotEqual(first.Version, second.Version);
        Assert.Empty(second.Config!.Clusters.Single(c => c.Name == "outbound|9080|v3|reviews.default.svc.cluster.local").Endpoints);
        await Wait.UntilAsync(() => f.Cp.Xds.Rounds > rounds, "the push round to finish");
        // The round is over and decided the gateway's config did not change: nothing queued for it.
        Assert.Equal(gw.Version, f.Cp.Xds.Session(GatewayId)!.State.Latest);
        Assert.Single(gateway.Responses);
    }

    [Fact]
    public async Task Apply_AgainBeforeThePushIsAnswered_NextIsADeltaFromTheUnansweredPush()
    {
        // The proxy applies pushes in order: under churn the next delta must start where the last push leaves it, not
        // at the last ACKed config (a delta from there is NACKed for another base and resent whole).
        await using var f = await StartWithBookinfoAsync();
        await using var client = await XdsTestClient.ConnectAsync(f.BaseAddress, "productpage-v1-0", autoAck: false);
        var first = await client.WaitForResponseAsync();
        await client.AckAsync(first);
        await Wait.UntilAsync(async () => (await f.ProxyAsync(Productpage)).State == "SYNCED", "SYNCED");

        Assert.Equal(System.Net.HttpStatusCode.OK, (await f.ApplyAsync(ReviewsSplit(30), "reviews.yaml")).Item1);
        var second = await client.WaitForResponseAsync(2);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await f.ApplyAsync(ReviewsSplit(60), "reviews.yaml")).Item1);
        var third = await client.WaitForResponseAsync(3);

        Assert.NotNull(second.Delta);
        Assert.NotNull(third.Delta);
        Assert.Equal(second.Version, third.Delta.BaseVersion);
        await client.AckAsync(third);
        await Wait.UntilAsync(async () => (await f.ProxyAsync(Productpage)).State == "SYNCED", "SYNCED on the third");
    }

    [Fact]
    public async Task Apply_AfterAck_SendsDeltaOfChangedVirtualHostsOnly_NackedDeltaResentWhole()
    {
        await using var f = await StartWithBookinfoAsync();
        await using var client = await XdsTestClient.ConnectAsync(f.BaseAddress, "productpage-v1-0", autoAck: false);
        var first = await client.WaitForResponseAsync();
        Assert.NotNull(first.Config);
        Assert.Null(first.Delta);
        await client.AckAsync(first);
        await Wait.UntilAsync(async () => (await f.ProxyAsync(Productpage)).State == "SYNCED", "SYNCED");

        var (status, _) = await f.ApplyAsync(ReviewsSplit(30), "reviews.yaml");
        Assert.Equal(System.Net.HttpStatusCode.OK, status);
        var second = await client.WaitForResponseAsync(2);
        // The delta carries the reviews virtual hosts it changed, nothing else; the client checked its version.
        Assert.NotNull(second.Delta);
        var patch = Assert.Single(second.Delta.VirtualHosts);
        Assert.All(patch.VirtualHosts, h => Assert.StartsWith("reviews.", h.Name, StringComparison.Ordinal));
        Assert.True(second.Delta.Listeners.IsDefaultOrEmpty && second.Delta.RouteTables.IsDefaultOrEmpty && second.Delta.Clusters.IsDefaultOrEmpty);

        // The proxy could not rebuild it: the same version comes again, whole, and the proxy is not reported NACKED.
        await client.NackAsync(second, first.Version, "delta onto x gives version y");
        var third = await client.WaitForResponseAsync(3);
        Assert.Equal(second.Version, third.Version);
        Assert.Null(third.Delta);
        Assert.Equal(ProxyConfigGenerator.VersionOf(third.Config!), third.Version);
        Assert.NotEqual("NACKED", (await f.ProxyAsync(Productpage)).State);
        await client.AckAsync(third);
        await Wait.UntilAsync(async () => (await f.ProxyAsync(Productpage)).State == "SYNCED", "SYNCED after the whole config");
    }

    [Fact]
    public async Task Apply_BurstOfTen_CoalescedIntoFewPushes()
    {
        await using var f = await StartWithBookinfoAsync();
        await using var client = await XdsTestClient.ConnectAsync(f.BaseAddress, "productpage-v1-0");
        await client.WaitForResponseAsync();

        for (var i = 1; i <= 10; i++)
        {
            var (status, result) = await f.ApplyAsync(ReviewsSplit(i * 10 - 5), "reviews.yaml");
            Assert.True(status == System.Net.HttpStatusCode.OK, string.Join("\n", result.Errors));
        }

        var expected = ProxyConfigGenerator.Generate(f.Cp.Store.Current, f.Cp.Registry.Current, Bookinfo.PodNamed("productpage-v1-0")).Version;
        await Wait.UntilAsync(() => client.Responses[^1].Version == expected, "the final config");
        await Wait.UntilAsync(async () => (await f.ProxyAsync(Productpage)).State == "SYNCED", "SYNCED");
        // Initial config plus one or two rounds (the burst may straddle a 100 ms quiet period), not ten.
        Assert.InRange(client.Responses.Count, 2, 4);
        var reviews = client.Responses[^1].Config!.RouteTables[0].VirtualHosts.Single(h => h.Name == "reviews.default.svc.cluster.local:9080");
        Assert.Equal([95, 5], reviews.Routes[1].Destinations.Select(d => d.Weight).ToArray());
    }

    [Fact]
    public async Task Reconnect_WithCurrentVersion_NoResendAndSynced()
    {
        await using var f = await StartWithBookinfoAsync();
        string version;
        await using (var first = await XdsTestClient.ConnectAsync(f.BaseAddress, "productpage-v1-0"))
        {
            version = (await first.WaitForResponseAsync()).Version;
            await Wait.UntilAsync(async () => (await f.ProxyAsync(Productpage)).State == "SYNCED", "SYNCED");
        }

        await Wait.UntilAsync(async () => (await f.ProxyAsync(Productpage)).State == "DISCONNECTED", "DISCONNECTED");
        Assert.Equal(version, (await f.ProxyAsync(Productpage)).Version);

        await using var again = await XdsTestClient.ConnectAsync(f.BaseAddress, "productpage-v1-0", version: version);
        await Wait.UntilAsync(async () => (await f.ProxyAsync(Productpage)).State == "SYNCED", "SYNCED after reconnect");

        // The next message it gets is a real change, not a resend of what it runs.
        await f.ApplyAsync(ReviewsSplit(80), "reviews.yaml");
        var next = await again.WaitForResponseAsync();
        Assert.NotEqual(version, next.Version);
        Assert.Single(again.Responses);
    }

    [Fact]
    public async Task Apply_Invalid_400WithMessagesAndNothingChanged()
    {
        await using var f = await StartWithBookinfoAsync();
        var generation = f.Cp.Store.Current.Generation;
        var before = await f.ResourcesAsync();

        var (status, result) = await f.ApplyAsync(
            ReviewsSplit(50).Replace("weight: 50", "weight: ten", StringComparison.Ordinal) + "\n---\n" + Bookinfo.ReviewsRule.Replace("name: reviews", "name: reviews2", StringComparison.Ordinal),
            "bad.yaml");

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, status);
        Assert.Contains(result.Errors, e => e.StartsWith("bad.yaml:", StringComparison.Ordinal) && e.Contains("weight", StringComparison.Ordinal));
        Assert.Empty(result.Changes);
        Assert.Equal(generation, f.Cp.Store.Current.Generation);
        Assert.Equal(before, await f.ResourcesAsync());
    }

    [Fact]
    public async Task RegistryChange_NewReviewsPod_PushedToSidecar()
    {
        await using var f = await StartWithBookinfoAsync();
        await using var client = await XdsTestClient.ConnectAsync(f.BaseAddress, "productpage-v1-0");
        await client.WaitForResponseAsync();

        ControlPlaneFixture.WriteRegistry(f.StateDir, [.. Bookinfo.Pods, Bookinfo.Pod("reviews-v3-1", "reviews", "v3", 20060)]);

        var r = await client.WaitForResponseAsync(2);
        var v3 = r.Config!.Clusters.Single(c => c.Name == "outbound|9080|v3|reviews.default.svc.cluster.local");
        Assert.Equal(["reviews-v3-0", "reviews-v3-1"], v3.Endpoints.Select(e => e.Pod!).ToArray());
    }

    [Fact]
    public async Task Restart_SameStateDir_SameResourcesAndVersions()
    {
        var dir = ControlPlaneFixture.NewStateDir();
        try
        {
            ControlPlaneFixture.WriteRegistry(dir, Bookinfo.Pods);
            Bowline.Api.Management.ResourceSummary[] resources;
            string pp, gw;
            await using (var f = await ControlPlaneFixture.StartAsync(dir))
            {
                await f.ApplyAsync(Bookinfo.All, "bookinfo.yaml");
                await f.ApplyAsync(ReviewsSplit(70), "reviews.yaml");
                resources = await f.ResourcesAsync();
                pp = (await f.ProxyAsync(Productpage)).LatestVersion!;
                gw = (await f.ProxyAsync(GatewayId)).LatestVersion!;
            }

            await using var g = await ControlPlaneFixture.StartAsync(dir);
            Assert.Equal(resources, await g.ResourcesAsync());
            Assert.Equal(pp, (await g.ProxyAsync(Productpage)).LatestVersion);
            Assert.Equal(gw, (await g.ProxyAsync(GatewayId)).LatestVersion);
            Assert.Equal(8, resources.Length);
        }
        finally
        {
            ControlPlaneFixture.DeleteDir(dir);
        }
    }
}
