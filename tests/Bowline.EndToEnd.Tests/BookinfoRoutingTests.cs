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
        await ApplyAsync(Networking("destination-rule-all.yaml"), Networking("virtual-service-all-v1.yaml"));
        using var jason = new BookinfoClient(Mesh.Gateway);
        await jason.LoginAsync("jason");
        using var anonymous = new BookinfoClient(Mesh.Gateway);
        await Eventually.TrueAsync(async () => await anonymous.ReviewsVersionAsync() == "reviews-v1" && await jason.ReviewsVersionAsync() == "reviews-v1", Resync, "all traffic on v1");

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
        await ApplyAsync(Networking("destination-rule-all.yaml"), Networking("virtual-service-reviews-50-v3.yaml"));
        await ProxyStatusReader.WaitAllAsync(Mesh, "SYNCED", Resync);
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
        await ApplyAsync(Networking("destination-rule-all.yaml"), Networking("virtual-service-all-v1.yaml"));
        await ProxyStatusReader.WaitAllAsync(Mesh, "SYNCED", Resync);
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
    public async Task NackedConfig_GatewayKeepsItsLastGoodConfig_AndRecoversWhenFixed()
    {
        await ApplyAsync(Networking("destination-rule-all.yaml"), Networking("virtual-service-all-v1.yaml"));
        await ProxyStatusReader.WaitAllAsync(Mesh, "SYNCED", Resync);
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
        await ApplyAsync(Networking("virtual-service-reviews-test-v2.yaml"));
        using var jason = new BookinfoClient(Mesh.Gateway);
        await jason.LoginAsync("jason");
        using var anonymous = new BookinfoClient(Mesh.Gateway);
        const string Unavailable = "Ratings service is currently unavailable";
        try
        {
            await ApplyAsync(Networking("virtual-service-ratings-test-abort.yaml"));

            // reviews-v2's sidecar answers 500 for ratings itself (fault filter abort); reviews shows its fallback text.
            await Eventually.TrueAsync(async () => (await jason.ProductPageAsync()).Contains(Unavailable, StringComparison.Ordinal), Resync, "jason's ratings aborted");
            Assert.Contains("reviews-v2", await jason.ProductPageAsync(), StringComparison.Ordinal);
            Assert.DoesNotContain(Unavailable, await anonymous.ProductPageAsync(), StringComparison.Ordinal);
        }
        finally
        {
            // Later tests expect ratings without faults.
            await ApplyAsync(Networking("virtual-service-all-v1.yaml"));
        }
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
