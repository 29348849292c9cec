using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Bowline.EndToEnd.Tests.Infrastructure;

namespace Bowline.EndToEnd.Tests;

/// <summary>
/// Istio's traffic-management tasks on the httpbin sample, for real: `bowline up samples/httpbin`, `bowline apply` of
/// the sample's Istio YAML (samples/httpbin/networking), traffic through the ingress gateway. Each test applies the
/// VirtualService and DestinationRule named httpbin it needs, so the order of the tests does not matter.
/// </summary>
[Collection(nameof(HttpbinTrafficTests))]
public sealed class HttpbinTrafficTests(HttpbinMeshFixture fixture) : IClassFixture<HttpbinMeshFixture>
{
    private static readonly TimeSpan Resync = TimeSpan.FromSeconds(20);
    private MeshProcess Mesh => fixture.Mesh;
    private static string Sample(string file) => Path.Combine(Repo.Sample("httpbin"), file);
    private static string Networking(string file) => Path.Combine(Repo.Sample("httpbin"), "networking", file);

    private HttpClient NewClient() =>
        new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { BaseAddress = Mesh.Gateway, Timeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task Retries_MaskAnUpstreamThatFailsEveryOtherCall()
    {
        using var client = NewClient();
        await ApplyAndSyncAsync(Networking("destination-rule-all.yaml"), Networking("virtual-service-v2-flaky.yaml"));
        // httpbin-v2's /cycle/200,500 answers 200, 500, 200, ... — deterministic, so no statistics are needed.
        var without = await StatusesAsync(client, "cycle/200,500", 20);
        Assert.Equal(10, without.Count(s => s == HttpStatusCode.InternalServerError));
        Assert.Equal(10, without.Count(s => s == HttpStatusCode.OK));

        await ApplyAndSyncAsync(Networking("virtual-service-v2-retries.yaml"));
        var with = await StatusesAsync(client, "cycle/200,500", 20);

        Assert.All(with, s => Assert.Equal(HttpStatusCode.OK, s));
    }

    [Fact]
    public async Task CircuitBreaker_ThreeConcurrentClients_SomeRefusedWithUOAndTheRestServed()
    {
        await ApplyAndSyncAsync(Sample("httpbin-gateway.yaml"), Networking("destination-rule-circuit-breaker.yaml"));
        var results = new System.Collections.Concurrent.ConcurrentBag<(HttpStatusCode Status, string Overloaded)>();

        // As Istio's task: several clients at once against maxConnections 1 / http1MaxPendingRequests 1.
        await Task.WhenAll(Enumerable.Range(0, 3).Select(async _ =>
        {
            using var client = NewClient();
            for (var i = 0; i < 30; i++)
            {
                using var response = await client.GetAsync("delay/0.05");
                results.Add((response.StatusCode, response.Headers.TryGetValues("x-envoy-overloaded", out var v) ? string.Join(",", v) : ""));
            }
        }));

        var ok = results.Count(r => r.Status == HttpStatusCode.OK);
        var refused = results.Where(r => r.Status == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.True(ok > 0 && refused.Count > 0, $"expected both 200s and 503s, got {ok} OK and {refused.Count} 503 of {results.Count}");
        Assert.Equal(results.Count, ok + refused.Count);
        Assert.All(refused, r => Assert.Equal("true", r.Overloaded));
    }

    [Fact]
    public async Task ConsistentHash_OnXUser_KeepsEachUserOnOnePod()
    {
        using var client = NewClient();
        await ApplyAndSyncAsync(Sample("httpbin-gateway.yaml"), Networking("destination-rule-all.yaml"));
        // Round robin first: one user is spread over the pods.
        Assert.True((await PodsSeenAsync(client, "alice", 12)).Count > 1);

        await ApplyAndSyncAsync(Networking("destination-rule-consistent-hash.yaml"));
        var podsByUser = new Dictionary<string, IReadOnlySet<string>>();
        for (var u = 0; u < 10; u++)
        {
            podsByUser[$"user{u}"] = await PodsSeenAsync(client, $"user{u}", 20);
        }

        // 200 requests: every user always on one pod; 10 users over 4 pods all on one pod would be a 4^-9 chance.
        Assert.All(podsByUser, kv => Assert.True(kv.Value.Count == 1, $"{kv.Key} saw {string.Join(", ", kv.Value)}"));
        Assert.True(podsByUser.Values.Select(p => p.Single()).Distinct().Count() > 1, "every user hashed to the same pod");
    }

    [Fact]
    public async Task FaultDelay_OneSecond_AddsOneSecondToEveryRequest()
    {
        using var client = NewClient();
        await ApplyAndSyncAsync(Sample("httpbin-gateway.yaml"), Networking("destination-rule-all.yaml"));
        var baseline = await MedianAsync(client, 10);

        await ApplyAndSyncAsync(Networking("virtual-service-delay.yaml"));
        var delayed = new List<TimeSpan>();
        for (var i = 0; i < 5; i++)
        {
            delayed.Add(await TimeAsync(client));
        }

        // The lower bound is strict: the gateway never answers before the delay. The upper bound is loose on purpose
        // (the machine is shared and loaded): the delay's overshoot plus the request must stay under 0.5 s.
        Assert.All(delayed, d => Assert.True(d >= TimeSpan.FromSeconds(1), $"a delayed request took {d.TotalMilliseconds:0} ms"));
        var median = delayed.Order().ElementAt(delayed.Count / 2);
        Assert.True(median <= TimeSpan.FromSeconds(1.5) + baseline,
            $"median delayed request {median.TotalMilliseconds:0} ms, baseline {baseline.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task FaultAbort_FiftyPercent_Over400Requests_WithinFiveSigma()
    {
        using var client = NewClient();
        await ApplyAndSyncAsync(Networking("destination-rule-all.yaml"), Networking("virtual-service-abort.yaml"));

        var statuses = await StatusesAsync(client, "get", 400);

        // Binomial(400, 0.5): sd = 10, so [150, 250] is ±5 sd.
        var aborted = statuses.Count(s => s == HttpStatusCode.InternalServerError);
        Assert.InRange(aborted, 150, 250);
        Assert.Equal(400, aborted + statuses.Count(s => s == HttpStatusCode.OK));
    }

    [Fact]
    public async Task Mirror_ToV2_ClientSeesOnlyV1_AndV2GetsACopyOfEachRequest()
    {
        using var client = NewClient();
        await ApplyAndSyncAsync(Networking("destination-rule-all.yaml"), Networking("virtual-service-mirror.yaml"));
        var v2 = await V2StatsUrlAsync();
        var before = await ShadowRequestsAsync(v2);

        var pods = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            using var response = await client.GetAsync("get");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            pods.Add(response.Headers.GetValues("x-httpbin-pod").Single());
        }

        Assert.All(pods, p => Assert.Matches("^httpbin-[0-2]$", p));
        // Copies are fire-and-forget: they arrive on their own time.
        await Eventually.TrueAsync(async () => await ShadowRequestsAsync(v2) - before == 20, Resync, "v2 to count 20 mirrored requests");
    }

    [Fact]
    public async Task LocalRateLimit_AtTheGateway_Answers429WithXEnvoyRateLimited()
    {
        using var client = NewClient();
        await ApplyAndSyncAsync(Sample("httpbin-gateway.yaml"), Networking("destination-rule-all.yaml"));
        var file = Networking("local-rate-limit-gateway.yaml");
        await ApplyAndSyncAsync(file);
        try
        {
            var ok = 0;
            var limited = 0;
            for (var i = 0; i < 20; i++)
            {
                using var response = await client.GetAsync("get");
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    limited++;
                    Assert.Equal("true", response.Headers.GetValues("x-envoy-ratelimited").Single());
                    Assert.Equal("local_rate_limited", await response.Content.ReadAsStringAsync());
                }
                else
                {
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                    ok++;
                }
            }

            // maxTokens 10, refilled once a minute: the first 10 pass, the rest are refused.
            Assert.Equal((10, 10), (ok, limited));
            var gateway = (await ProxyStatusReader.ReadAsync(Mesh)).Single(r => r.Workload == "istio-ingressgateway");
            using var admin = new HttpClient();
            using var stats = JsonDocument.Parse(await admin.GetStringAsync($"http://{gateway.Admin}/stats/local_ratelimit"));
            var bucket = stats.RootElement.EnumerateArray().Single();
            Assert.Equal("istio-system/httpbin-ingress", bucket.GetProperty("name").GetString());
            Assert.Equal(10, bucket.GetProperty("rateLimited").GetInt64());
        }
        finally
        {
            var deleted = await Mesh.CliAsync("delete", "-f", file);
            Assert.True(deleted.ExitCode == 0, deleted.ToString());
            await ProxyStatusReader.WaitAllAsync(Mesh, "SYNCED", Resync);
        }
    }

    [Fact]
    public async Task EnvoyFilter_IstioDocsLocalRateLimit_LimitsEachHttpbinPod()
    {
        using var client = NewClient();
        await ApplyAndSyncAsync(Sample("httpbin-gateway.yaml"), Networking("destination-rule-all.yaml"));
        var file = Networking("envoyfilter-local-ratelimit.yaml");
        await ApplyAndSyncAsync(file);
        try
        {
            var statuses = await StatusesAsync(client, "get", 20);

            // 4 tokens per pod, 4 pods, round robin: 16 pass, then every pod's sidecar answers 429 itself.
            Assert.Equal(16, statuses.Count(s => s == HttpStatusCode.OK));
            Assert.Equal(4, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        }
        finally
        {
            var deleted = await Mesh.CliAsync("delete", "-f", file);
            Assert.True(deleted.ExitCode == 0, deleted.ToString());
            await ProxyStatusReader.WaitAllAsync(Mesh, "SYNCED", Resync);
        }
    }

    private static async Task<List<HttpStatusCode>> StatusesAsync(HttpClient client, string path, int n)
    {
        var statuses = new List<HttpStatusCode>(n);
        for (var i = 0; i < n; i++)
        {
            using var response = await client.GetAsync(path);
            statuses.Add(response.StatusCode);
        }

        return statuses;
    }

    private static async Task<IReadOnlySet<string>> PodsSeenAsync(HttpClient client, string user, int n)
    {
        var pods = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < n; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "get");
            request.Headers.Add("x-user", user);
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            pods.Add(response.Headers.GetValues("x-httpbin-pod").Single());
        }

        return pods;
    }

    private static async Task<TimeSpan> TimeAsync(HttpClient client)
    {
        var clock = Stopwatch.StartNew();
        using var response = await client.GetAsync("get");
        await response.Content.ReadAsByteArrayAsync();
        var elapsed = clock.Elapsed;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return elapsed;
    }

    private static async Task<TimeSpan> MedianAsync(HttpClient client, int n)
    {
        var times = new List<TimeSpan>(n);
        for (var i = 0; i < n; i++)
        {
            times.Add(await TimeAsync(client));
        }

        return times.Order().ElementAt(n / 2);
    }

    /// <summary>httpbin-v2's own /stats, asked directly at its sidecar's inbound listener (as its admin reports it).</summary>
    private async Task<string> V2StatsUrlAsync()
    {
        var proxy = (await ProxyStatusReader.ReadAsync(Mesh)).Single(r => r.Name.StartsWith("httpbin-v2-0.", StringComparison.Ordinal));
        using var admin = new HttpClient();
        using var dump = JsonDocument.Parse(await admin.GetStringAsync($"http://{proxy.Admin}/config_dump"));
        var inbound = dump.RootElement.GetProperty("bound").GetProperty("inbound|8080").GetString();
        return $"http://{inbound}/stats";
    }

    private static async Task<long> ShadowRequestsAsync(string statsUrl)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        using var stats = JsonDocument.Parse(await http.GetStringAsync(statsUrl));
        return stats.RootElement.GetProperty("shadowRequests").GetInt64();
    }

    /// <summary>Applies and waits until every proxy runs the result.</summary>
    private async Task ApplyAndSyncAsync(params string[] files)
    {
        var args = new List<string> { "apply" };
        foreach (var f in files)
        {
            args.Add("-f");
            args.Add(f);
        }

        var result = await Mesh.CliAsync([.. args]);
        Assert.True(result.ExitCode == 0, result.ToString());
        await ProxyStatusReader.WaitAllAsync(Mesh, "SYNCED", Resync);
    }
}
