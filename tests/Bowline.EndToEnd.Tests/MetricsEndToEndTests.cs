using System.Text.Json;
using Bowline.EndToEnd.Tests.Infrastructure;

namespace Bowline.EndToEnd.Tests;

/// <summary>
/// Bookinfo under `bowline up` with the real Prometheus it starts: Istio's standard queries over traffic through the
/// gateway, then Istio's ratings abort for jason showing up as 500 FI. Everything polls Prometheus with generous
/// deadlines (1 s scrapes; a loaded machine only makes it slower, not wrong).
/// </summary>
public sealed class MetricsEndToEndTests(BookinfoMeshFixture fixture) : IClassFixture<BookinfoMeshFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private MeshProcess Mesh => fixture.Mesh;

    [Fact]
    public async Task Prometheus_SeesEveryWorkload_Latencies_AndTheInjectedAbort()
    {
        Assert.True(Mesh.Prometheus is not null, "bowline up started no Prometheus (apt-get install prometheus):\n" + Mesh.Output);
        using var prometheus = new HttpClient { BaseAddress = Mesh.Prometheus, Timeout = TimeSpan.FromSeconds(20) };
        using var anonymous = new BookinfoClient(Mesh.Gateway);

        // Every workload reports as destination; reviews round-robins over v1–v3, and v2/v3 call ratings.
        string[] expected = ["productpage-v1/v1", "details-v1/v1", "reviews-v1/v1", "reviews-v2/v2", "reviews-v3/v3", "ratings-v1/v1"];
        await Eventually.TrueAsync(async () =>
        {
            await anonymous.ProductPageAsync();
            var rates = await QueryAsync(prometheus,
                "sum(rate(istio_requests_total{reporter=\"destination\"}[1m])) by (destination_workload, destination_version)");
            var seen = rates.Where(r => r.Value > 0).Select(r => $"{r.Labels["destination_workload"]}/{r.Labels["destination_version"]}").ToHashSet();
            return expected.All(seen.Contains);
        }, Deadline, "request rates of every bookinfo workload");

        await Eventually.TrueAsync(async () =>
        {
            await anonymous.ProductPageAsync();
            var p99 = await QueryAsync(prometheus,
                "histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket{reporter=\"source\"}[1m])) by (le, destination_service))");
            return p99.Any(r => r.Labels["destination_service"] == "reviews.default.svc.cluster.local" && double.IsFinite(r.Value) && r.Value > 0);
        }, Deadline, "p99 latency per destination service");

        // Istio's fault-injection task: jason's calls to ratings abort with 500 in reviews-v2's sidecar.
        await ApplyAsync(Networking("destination-rule-all.yaml"), Networking("virtual-service-all-v1.yaml"));
        await ApplyAsync(Networking("virtual-service-reviews-test-v2.yaml"), Networking("virtual-service-ratings-test-abort.yaml"));
        using var jason = new BookinfoClient(Mesh.Gateway);
        await jason.LoginAsync("jason");
        await Eventually.TrueAsync(async () =>
        {
            await jason.ProductPageAsync();
            var aborted = await QueryAsync(prometheus,
                "sum(istio_requests_total{response_code=\"500\",response_flags=\"FI\"}) by (reporter, source_workload, destination_service)");
            return aborted.Any(r => r.Value > 0 && r.Labels["reporter"] == "source" && r.Labels["source_workload"] == "reviews-v2"
                && r.Labels["destination_service"] == "ratings.default.svc.cluster.local");
        }, Deadline, "jason's aborted ratings calls as 500 FI");
    }

    private static string Networking(string file) => Path.Combine(Repo.Sample("bookinfo"), "networking", file);

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

    /// <summary>An instant query's vector result: each sample's labels and value.</summary>
    private static async Task<List<(Dictionary<string, string> Labels, double Value)>> QueryAsync(HttpClient prometheus, string promql)
    {
        using var response = await prometheus.PostAsync("api/v1/query", new FormUrlEncodedContent([new("query", promql)]));
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("success", doc.RootElement.GetProperty("status").GetString());
        var result = new List<(Dictionary<string, string>, double)>();
        foreach (var sample in doc.RootElement.GetProperty("data").GetProperty("result").EnumerateArray())
        {
            var labels = sample.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "");
            var value = sample.GetProperty("value")[1].GetString()!;
            result.Add((labels, value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                _ => double.Parse(value, System.Globalization.CultureInfo.InvariantCulture),
            }));
        }

        return result;
    }
}
