using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Bowline.Api.Management;
using Bowline.Api.Registry;
using Bowline.Api.Xds;
using Bowline.Bench.XdsSim;

// Control plane at scale: every pod of a registry connects as a simulated proxy; then config changes are applied
// through the management API and timed from the apply request to the last proxy's ACK of a config carrying it.
const string Usage = "usage: xdssim --cp http://127.0.0.1:PORT --registry registry.json --cp-pid PID [--changes 20] [--churn-seconds 10] [--churn-rate 10] [--out FILE]";

string? cp = null, registryPath = null, outFile = null;
int cpPid = 0, changes = 20, churnSeconds = 10;
double churnRate = 10;
try
{
    for (var i = 0; i < args.Length; i++)
    {
        string Value() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{args[i]} needs a value");
        switch (args[i])
        {
            case "--cp": cp = Value().TrimEnd('/'); break;
            case "--registry": registryPath = Value(); break;
            case "--cp-pid": cpPid = int.Parse(Value(), CultureInfo.InvariantCulture); break;
            case "--changes": changes = int.Parse(Value(), CultureInfo.InvariantCulture); break;
            case "--churn-seconds": churnSeconds = int.Parse(Value(), CultureInfo.InvariantCulture); break;
            case "--churn-rate": churnRate = double.Parse(Value(), CultureInfo.InvariantCulture); break;
            case "--out": outFile = Value(); break;
            default: throw new FormatException($"unknown argument {args[i]}");
        }
    }

    if (cp is null || registryPath is null || cpPid == 0)
    {
        throw new FormatException("--cp, --registry and --cp-pid are required");
    }
}
catch (FormatException e)
{
    Console.Error.WriteLine($"xdssim: {e.Message}\n{Usage}");
    return 2;
}

void Log(string msg) => Console.Error.WriteLine($"[xdssim {DateTime.Now:HH:mm:ss}] {msg}");

var registry = LocalRegistry.Read(registryPath);
var streamUri = new Uri(cp.Replace("http://", "ws://", StringComparison.Ordinal) + XdsProtocol.Path);
var proxies = registry.Pods.Select(p => new SimProxy(new Node { Id = $"{p.Name}.{p.Namespace}", Pod = p.Name, Namespace = p.Namespace }, streamUri)).ToArray();
var ns = registry.Pods[0].Namespace;
var services = registry.Pods.Select(p => p.Labels.GetValueOrDefault("app")).Distinct().Count();
using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
using var stop = new CancellationTokenSource();
var cpu = new ProcStats(cpPid);

// 1. Connect everyone (64 at a time) and wait for every first config to be ACKed.
Log($"connecting {proxies.Length} simulated proxies");
// From before the first connect: the initial sync (every proxy's whole config at once) is a phase of its own.
using var rssPeak = new RssPeak(cpu);
var sync = Stopwatch.StartNew();
using (var gate = new SemaphoreSlim(64))
{
    await Task.WhenAll(proxies.Select(async p =>
    {
        await gate.WaitAsync();
        try
        {
            await p.ConnectAsync(stop.Token);
        }
        finally
        {
            gate.Release();
        }

        _ = Task.Run(() => p.RunAsync(stop.Token));
    }));
}

await Task.WhenAll(proxies.Select(p => p.FirstAck.Task));
var initialSync = sync.Elapsed.TotalSeconds;
var bytesAfterSync = proxies.Sum(p => p.ReceivedBytes);
Log($"all {proxies.Length} proxies synced in {initialSync:F1} s ({bytesAfterSync / 1e6:F0} MB of config)");
await Task.Delay(1000);
var rssIdle = cpu.RssMb();
var rssSyncPeak = rssPeak.EndPhase();

async Task<double> ApplyAsync(string name, string yaml)
{
    var started = Stopwatch.GetTimestamp();
    var body = new ConfigFiles { Files = [new ConfigFile { Name = name + ".yaml", Content = yaml }] };
    using var response = await http.PostAsJsonAsync(cp + ManagementApi.Apply, body, ManagementJson.Default.ConfigFiles);
    var result = await response.Content.ReadFromJsonAsync(ManagementJson.Default.ApplyResult);
    if (!response.IsSuccessStatusCode || result is null || !result.Errors.IsEmpty)
    {
        throw new InvalidOperationException($"apply {name} refused: {string.Join("; ", result?.Errors ?? [])}");
    }

    return started;
}

string VirtualService(string name, string host, string destination, string marker) => $"""
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata:
      name: {name}
      namespace: {ns}
    spec:
      hosts: ["{host}"]
      http:
      - match:
        - headers:
            x-bench:
              exact: {marker}
        route:
        - destination:
            host: {destination}
      - route:
        - destination:
            host: {destination}
    """;

// When each proxy first ACKed a config carrying marker kind ≥ n (null if it never did).
long? AckedAt(SimProxy p, string kind, int n)
{
    lock (p.Acks)
    {
        foreach (var (ticks, markers) in p.Acks)
        {
            if (markers.TryGetValue(kind, out var m) && m >= n)
            {
                return ticks;
            }
        }
    }

    return null;
}

async Task<int> WaitAllAsync(string kind, int n, TimeSpan timeout)
{
    var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
    while (true)
    {
        var missing = proxies.Count(p => AckedAt(p, kind, n) is null);
        if (missing == 0 || Stopwatch.GetTimestamp() > deadline)
        {
            return missing;
        }

        await Task.Delay(20);
    }
}

(double[] LatenciesMs, int Missing) Latencies(string kind, IReadOnlyList<(int N, long Started)> applied)
{
    var list = new List<double>();
    var missing = 0;
    foreach (var (n, started) in applied)
    {
        var acks = proxies.Select(p => AckedAt(p, kind, n)).ToArray();
        missing += acks.Count(a => a is null);
        var last = acks.Where(a => a is not null).Max() ?? started;
        list.Add(Stopwatch.GetElapsedTime(started, last).TotalMilliseconds);
    }

    return ([.. list.Order()], missing);
}

// 2. One change at a time, the next once every proxy has ACKed the last: a change to one service, then to all.
async Task<Dictionary<string, object>> SequentialAsync(string kind, string vsName, string host, string destination)
{
    var applied = new List<(int, long)>();
    var cpu0 = cpu.CpuSeconds();
    var bytes0 = proxies.Sum(p => p.ReceivedBytes);
    var acks0 = proxies.Sum(p => p.Acks.Count);
    for (var n = 1; n <= changes; n++)
    {
        var started = await ApplyAsync(vsName, VirtualService(vsName, host, destination, $"bench-{kind}-{n}"));
        applied.Add((n, (long)started));
        var missing = await WaitAllAsync(kind, n, TimeSpan.FromSeconds(120));
        if (missing > 0)
        {
            // Not lost: a later change's config carries it too, and its ACK still counts (it just comes late).
            Log($"{kind} change {n}: {missing} proxies had not ACKed it after 120 s; applying the next change anyway");
        }

        await Task.Delay(250);
    }

    var (lat, miss) = Latencies(kind, applied);
    var pushes = proxies.Sum(p => p.Acks.Count) - acks0;
    var result = new Dictionary<string, object>
    {
        ["changes"] = changes,
        ["p50_ms"] = Pct(lat, 50),
        ["p99_ms"] = Pct(lat, 99),
        ["max_ms"] = lat.Length == 0 ? 0 : Math.Round(lat[^1], 1),
        ["pushes_per_change"] = Math.Round((double)pushes / changes, 1),
        ["mb_pushed_per_change"] = Math.Round((proxies.Sum(p => p.ReceivedBytes) - bytes0) / 1e6 / changes, 1),
        ["cp_cpu_s_per_change"] = Math.Round((cpu.CpuSeconds() - cpu0) / changes, 3),
        ["missed_acks"] = miss,
        ["rss_mb_peak"] = rssPeak.EndPhase(),
    };
    Log($"{kind}: p50 {result["p50_ms"]} ms, p99 {result["p99_ms"]} ms, {result["pushes_per_change"]} pushes and {result["mb_pushed_per_change"]} MB per change");
    return result;
}

var one = await SequentialAsync("one", "bench-one", "svc-0", "svc-0");
var all = await SequentialAsync("all", "bench-all", $"*.{ns}.svc.cluster.local", "svc-1");

// 3. Churn: changes at a fixed rate (one service each, always the same VirtualService), then until all converge.
Log($"churn: {churnRate} changes/s for {churnSeconds} s");
var churnApplied = new List<(int, long)>();
var churnCpu0 = cpu.CpuSeconds();
var churnStart = Stopwatch.GetTimestamp();
var total = (int)(churnRate * churnSeconds);
for (var n = 1; n <= total; n++)
{
    var due = churnStart + (long)((n - 1) / churnRate * Stopwatch.Frequency);
    var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
    if (wait > TimeSpan.Zero)
    {
        await Task.Delay(wait);
    }

    churnApplied.Add((n, (long)await ApplyAsync("bench-churn", VirtualService("bench-churn", "svc-2", "svc-2", $"bench-churn-{n}"))));
}

var churnApplySeconds = Stopwatch.GetElapsedTime(churnStart).TotalSeconds;
var churnMissing = await WaitAllAsync("churn", total, TimeSpan.FromSeconds(120));
var churnSeconds2 = Stopwatch.GetElapsedTime(churnStart).TotalSeconds;
var churnCpu = cpu.CpuSeconds() - churnCpu0;
var (churnLat, churnMiss) = Latencies("churn", churnApplied);
var churn = new Dictionary<string, object>
{
    ["changes"] = total,
    ["achieved_changes_per_s"] = Math.Round(total / churnApplySeconds, 2),
    ["p50_ms"] = Pct(churnLat, 50),
    ["p99_ms"] = Pct(churnLat, 99),
    ["max_ms"] = churnLat.Length == 0 ? 0 : Math.Round(churnLat[^1], 1),
    ["converged_after_s"] = Math.Round(churnSeconds2, 1),
    ["cp_cpu_s"] = Math.Round(churnCpu, 2),
    ["cp_vcpu"] = Math.Round(churnCpu / churnSeconds2, 3),
    ["missed_acks"] = churnMiss + churnMissing,
    ["rss_mb_peak"] = rssPeak.EndPhase(),
};
Log($"churn: p50 {churn["p50_ms"]} ms, p99 {churn["p99_ms"]} ms, CP {churn["cp_vcpu"]} vCPU");

await rssPeak.StopAsync();
await stop.CancelAsync();
foreach (var p in proxies)
{
    p.Dispose();
}

var output = new Dictionary<string, object>
{
    ["proxies"] = proxies.Length,
    ["services"] = services,
    ["initial_sync_s"] = Math.Round(initialSync, 2),
    ["config_kb_per_proxy"] = Math.Round(bytesAfterSync / 1e3 / proxies.Length, 1),
    ["push_p50_ms"] = one["p50_ms"],
    ["push_p99_ms"] = one["p99_ms"],
    ["rss_mb"] = Math.Round(Math.Max(rssPeak.Peak, cpu.RssMb()), 1),
    ["rss_mb_after_sync"] = Math.Round(rssIdle, 1),
    ["rss_mb_peak_sync"] = rssSyncPeak,
    ["delta_nacks"] = proxies.Sum(p => p.DeltaNacks),
    ["cpu_s"] = Math.Round(cpu.CpuSeconds(), 2),
    ["one_service_change"] = one,
    ["all_services_change"] = all,
    ["churn"] = churn,
};
var json = JsonSerializer.Serialize(output, SimJson.Default.DictionaryStringObject);
if (outFile is null)
{
    Console.WriteLine(json);
}
else
{
    await File.WriteAllTextAsync(outFile, json);
}

return 0;

static double Pct(double[] sorted, double p) =>
    sorted.Length == 0 ? 0 : Math.Round(sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p / 100 * sorted.Length) - 1)], 1);
