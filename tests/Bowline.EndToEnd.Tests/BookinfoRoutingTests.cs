using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Bowline.EndToEnd.Tests.Infrastructure;

namespace Bowline.EndToEnd.Tests;

/// <summary>Istio's request-routing task on bookinfo, run for real: `bowline up`, then `bowline apply` of Istio YAML.</summary>
[Collection(nameof(BookinfoRoutingTests))]
public sealed class BookinfoRoutingTests(BookinfoMeshFixture fixture) : IClassFixture<BookinfoMeshFixture>
{
    private static readonly TimeSpan Resync = TimeSpan.FromSeconds(20);
    private MeshProcess Mesh => fixture.Mesh;
    private static string Networking(string file) => Path.Combine(Repo.Sample("bookinfo"), "networking", file);

    [Fact]
    public async Task Up_Bookinfo_ServesProductPageThroughTheGatewayWithEveryProxySynced()
    {
        using var user = new BookinfoClient(Mesh.Gateway);
        var page = await user.ProductPageAsync();

        Assert.Contains("The Comedy of Errors", page);
        Assert.Matches("reviews-v[123]", page);
        var rows = await ProxyStatusReader.WaitAllAsync(Mesh, "SYNCED", Resync);
        // 6 workloads + the ingress gateway, each with its admin endpoint answering.
        Assert.Equal(7, rows.Count);
        Assert.Contains(rows, r => r.Workload == "istio-ingressgateway" && r.Namespace == "istio-system");
        Assert.All(rows, r => Assert.False(string.IsNullOrEmpty(r.Version)));
    }

    [Fact]
    public async Task ApplyJasonToV2_WithinASecond_JasonSeesOnlyV2AndEveryoneElseOnlyV1()
    {
        await ApplyAndSyncAsync(Networking("destination-rule-all.yaml"), Networking("virtual-service-all-v1.yaml"));
        using var jason = new BookinfoClient(Mesh.Gateway);
        await jason.LoginAsync("jason");
        using var anonymous = new BookinfoClient(Mesh.Gateway);
        Assert.Equal("reviews-v1", await jason.ReviewsVersionAsync());

        await ApplyAsync(Networking("virtual-service-reviews-test-v2.yaml"));
        var applied = Stopwatch.StartNew();
        await Eventually.TrueAsync(async () => await jason.ReviewsVersionAsync() == "reviews-v2", TimeSpan.FromSeconds(5), "jason on v2");
        var seen = applied.Elapsed;

        Assert.True(seen < TimeSpan.FromSeconds(1), $"jason reached v2 {seen.TotalMilliseconds:0} ms after apply returned");
        Assert.Equal(new Dictionary<string, int> { ["reviews-v2"] = 20 }, await jason.CountVersionsAsync(20));
        Assert.Equal(new Dictionary<string, int> { ["reviews-v1"] = 20 }, await anonymous.CountVersionsAsync(20));
    }

    [Fact]
    public async Task ApplyFiftyFiftyV1V3_Over200Requests_BothWithinStatisticalBounds()
    {
        await ApplyAndSyncAsync(Networking("destination-rule-all.yaml"), Networking("virtual-service-reviews-50-v3.yaml"));
        using var user = new BookinfoClient(Mesh.Gateway);

        var counts = await user.CountVersionsAsync(200);

        // Binomial(200, 0.5): sd ≈ 7.1, so [65, 135] is ±5 sd — a fair split essentially never falls outside.
        Assert.Equal(["reviews-v1", "reviews-v3"], counts.Keys.Order());
        Assert.InRange(counts["reviews-v1"], 65, 135);
        Assert.InRange(counts["reviews-v3"], 65, 135);
    }

    [Fact]
    public async Task InvalidApply_IsRefusedWithFileLineAndField_AndRoutingIsUnchanged()
    {
        await ApplyAndSyncAsync(Networking("destination-rule-all.yaml"), Networking("virtual-service-all-v1.yaml"));
        var bad = Path.Combine(Mesh.Home, "reviews-bad.yaml");
        await File.WriteAllTextAsync(bad, """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: reviews
            spec:
              hosts:
              - reviews
              http:
              - route:
                - destination:
                    host: reviews
                    subset: v3
                  weight: ten
            """);

        var result = await Mesh.CliAsync("apply", "-f", bad);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{bad}:13: spec.http[0].route[0].weight: expected an integer, got \"ten\"", result.Stderr);
        using var user = new BookinfoClient(Mesh.Gateway);
        Assert.Equal(new Dictionary<string, int> { ["reviews-v1"] = 10 }, await user.CountVersionsAsync(10));
    }

    [Fact]
    public async Task ApplyUndefinedSubset_IsAcceptedWithAWarning_AndProductPageDegradesAsIstioDoes()
    {
        await ApplyAndSyncAsync(Networking("destination-rule-all.yaml"), Networking("virtual-service-all-v1.yaml"));
        var file = Path.Combine(Mesh.Home, "reviews-v4.yaml");
        await File.WriteAllTextAsync(file, """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: reviews
            spec:
              hosts:
              - reviews
              http:
              - route:
                - destination:
                    host: reviews
                    subset: v4
            """);

        var result = await Mesh.CliAsync("apply", "-f", file);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"warning: {file}:12: spec.http[0].route[0].destination.subset: subset \"v4\" is not defined by any DestinationRule for host reviews.default.svc.cluster.local", result.Stderr);
        // No endpoint behind the subset: reviews answers 503 (UH) and productpage shows Istio's bookinfo text for it.
        using var user = new BookinfoClient(Mesh.Gateway);
        await Eventually.TrueAsync(
            async () => (await user.ProductPageAsync()).Contains("Sorry, product reviews are currently unavailable for this book.", StringComparison.Ordinal),
            Resync, "productpage to report reviews unavailable");
    }

    [Fact]
    public async Task NackedConfig_GatewayKeepsItsLastGoodConfig_AndRecoversWhenFixed()
    {
        await ApplyAndSyncAsync(Networking("destination-rule-all.yaml"), Networking("virtual-service-all-v1.yaml"));
        // A Gateway on a port something else holds: valid config, but the gateway proxy cannot bind it, so it NACKs.
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var port = ((IPEndPoint)squatter.LocalEndpoint).Port;
        var gatewayFile = Path.Combine(Mesh.Home, "squatted-gateway.yaml");
        await File.WriteAllTextAsync(gatewayFile, $"""
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata:
              name: squatted
            spec:
              selector:
                istio: ingressgateway
              servers:
              - port:
                  number: {port}
                  name: http
                  protocol: HTTP
                hosts:
                - "*"
            """);

        await ApplyAsync(gatewayFile);

        var nacked = await Eventually.WaitAsync(async () =>
            (await ProxyStatusReader.ReadAsync(Mesh)).SingleOrDefault(r => r.State == "NACKED"), Resync, "the gateway to NACK");
        Assert.Equal("istio-ingressgateway", nacked.Workload);
        using var user = new BookinfoClient(Mesh.Gateway);
        Assert.Equal(new Dictionary<string, int> { ["reviews-v1"] = 10 }, await user.CountVersionsAsync(10));

        var deleted = await Mesh.CliAsync("delete", "-f", gatewayFile);
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        await ProxyStatusReader.WaitAllAsync(Mesh, "SYNCED", Resync);
    }

    [Fact]
    public async Task ApplyRatingsAbortForJason_JasonSeesRatingsUnavailableAndEveryoneElseDoesNot()
    {
        await ApplyAsync(Networking("destination-rule-all.yaml"), Networking("virtual-service-all-v1.yaml"));
        await ApplyAndSyncAsync(Networking("virtual-service-reviews-test-v2.yaml"));
        using var jason = new BookinfoClient(Mesh.Gateway);
        await jason.LoginAsync("jason");
        using var anonymous = new BookinfoClient(Mesh.Gateway);
        const string Unavailable = "Ratings service is currently unavailable";

        await ApplyAsync(Networking("virtual-service-ratings-test-abort.yaml"));

        // reviews-v2's sidecar answers 500 for ratings itself (fault filter abort); reviews shows its fallback text.
        await Eventually.TrueAsync(async () => (await jason.ProductPageAsync()).Contains(Unavailable, StringComparison.Ordinal), Resync, "jason's ratings aborted");
        Assert.Contains("reviews-v2", await jason.ProductPageAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(Unavailable, await anonymous.ProductPageAsync(), StringComparison.Ordinal);
    }

    /// <summary>Applies and waits until every proxy runs the result (the control plane reports STALE until they ACK).</summary>
    private async Task ApplyAndSyncAsync(params string[] files)
    {
        await ApplyAsync(files);
        await ProxyStatusReader.WaitAllAsync(Mesh, "SYNCED", Resync);
    }

    private async Task ApplyAsync(params string[] files)
    {
        var args = new List<string> { "apply" };
        foreach (var f in files)
        {
            args.Add("-f");
            args.Add(f);
        }

        var result = await Mesh.CliAsync([.. args]);
        Assert.True(result.ExitCode == 0, result.ToString());
    }
}
