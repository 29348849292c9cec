using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Bowline.Bench.LoadGen;

// Open-loop HTTP/1.1 load at a constant rate. Each connection owns a fixed schedule of due times
// (connection c, request i: start + c*gap/connections + i*gap, gap = connections/rate); latency is counted from the
// due time, not from when the request could actually be sent. A stalled response therefore delays the requests queued
// behind it on that connection and every one of them is charged the wait: no coordinated omission (as in wrk2).
// A request that is late simply goes out at once; the schedule never slips.
//
// Several targets (--url repeated) are interleaved in time: slice k of --slice seconds belongs to target k mod N, and
// each target has its own connections, which send only the due times of its slices. Every target then meets the same
// minutes of this machine — a VM whose speed drifts between minutes cannot favour one of them — and a stall on one
// target's connection is charged to that target only.
const string Usage = "usage: loadgen --url http://127.0.0.1:PORT/path [--host HOST] [--url ... [--host ...]] [--slice 1] " +
                     "[--rate 1000] [--connections 16] [--duration 30] [--warmup 5] [--out FILE]\n" +
                     "[--slow-log FILE --slow-ms 1]\n" +
                     "  --host applies to the --url before it; duration and warm-up are per target (whole slices)\n" +
                     "  --slow-log: one line per measured request slower than --slow-ms (target, due time since start, latency; ms)";

var targets = new List<Target>();
double rate = 1000, duration = 30, warmup = 5, slice = 1;
var connections = 16;
string? outFile = null;
string? slowLog = null;
double slowMs = 1;
try
{
    for (var i = 0; i < args.Length; i++)
    {
        string Value() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{args[i]} needs a value");
        switch (args[i])
        {
            case "--url": targets.Add(new Target(new Uri(Value()), null)); break;
            case "--host":
                var host = Value();
                targets[^1] = targets.Count > 0 ? targets[^1] with { Host = host } : throw new FormatException("--host before any --url");
                break;
            case "--rate": rate = double.Parse(Value(), CultureInfo.InvariantCulture); break;
            case "--connections": connections = int.Parse(Value(), CultureInfo.InvariantCulture); break;
            case "--duration": duration = double.Parse(Value(), CultureInfo.InvariantCulture); break;
            case "--warmup": warmup = double.Parse(Value(), CultureInfo.InvariantCulture); break;
            case "--slice": slice = double.Parse(Value(), CultureInfo.InvariantCulture); break;
            case "--out": outFile = Value(); break;
            case "--slow-log": slowLog = Value(); break;
            case "--slow-ms": slowMs = double.Parse(Value(), CultureInfo.InvariantCulture); break;
            default: throw new FormatException($"unknown argument {args[i]}");
        }
    }

    if (targets.Count == 0 || rate <= 0 || connections <= 0 || duration <= 0 || warmup < 0 || slice <= 0)
    {
        throw new FormatException("--url is required; rate, connections, duration, slice must be positive");
    }
}
catch (FormatException e)
{
    Console.Error.WriteLine($"loadgen: {e.Message}\n{Usage}");
    return 2;
}

var n = targets.Count;
var gapNs = (long)(connections / rate * 1e9);
var start = MonotonicClock.NowNs() + 50_000_000;
long measureFrom, end, sliceNs;
if (n == 1)
{
    // One target owns all the time: the run is exactly warm-up then duration.
    sliceNs = long.MaxValue;
    measureFrom = start + (long)(warmup * 1e9);
    end = measureFrom + (long)(duration * 1e9);
}
else
{
    sliceNs = (long)(slice * 1e9);
    measureFrom = start + ((long)Math.Ceiling(warmup / slice) * n * sliceNs);
    end = measureFrom + ((long)Math.Ceiling(duration / slice) * n * sliceNs);
}

var schedule = new Schedule(start, sliceNs, n, gapNs, measureFrom, end);
var results = new ConnectionResult[n, connections];
var threads = new List<Thread>(n * connections);
for (var t = 0; t < n; t++)
{
    var target = targets[t];
    var endpoint = new IPEndPoint(IPAddress.Parse(target.Url.Host), target.Url.Port);
    var request = Encoding.ASCII.GetBytes($"GET {target.Url.PathAndQuery} HTTP/1.1\r\nHost: {target.Host ?? target.Url.Authority}\r\nUser-Agent: bowline-loadgen\r\n\r\n");
    for (var c = 0; c < connections; c++)
    {
        var (ti, ci) = (t, c);
        var thread = new Thread(() => results[ti, ci] = RunConnection(endpoint, request, schedule, ti, start + (ci * gapNs / connections)))
        {
            IsBackground = true,
            Name = $"t{t}-conn-{c}",
        };
        threads.Add(thread);
        thread.Start();
    }
}

foreach (var thread in threads)
{
    thread.Join();
}

double Pct(long[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p / 100 * sorted.Length) - 1)] / 1e6;

var measuredPerTarget = (end - measureFrom) / n;
var empty = false;
using var stream = new MemoryStream();
using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
{
    w.WriteStartObject();
    w.WriteNumber("rate", rate);
    w.WriteNumber("connections", connections);
    w.WriteNumber("duration_s", measuredPerTarget / 1e9);
    w.WriteNumber("warmup_s", (measureFrom - start) / n / 1e9);
    w.WriteNumber("slice_s", n == 1 ? duration + warmup : slice);
    w.WriteStartArray("targets");
    for (var t = 0; t < n; t++)
    {
        var mine = Enumerable.Range(0, connections).Select(c => results[t, c]).ToArray();
        var latencies = mine.SelectMany(r => r.LatenciesNs).Order().ToArray();
        var service = mine.SelectMany(r => r.ServiceNs).Order().ToArray();
        var lastDone = mine.Max(r => r.LastDoneNs);
        empty |= latencies.Length == 0;
        w.WriteStartObject();
        w.WriteString("url", targets[t].Url.ToString());
        w.WriteString("host", targets[t].Host);
        w.WriteNumber("requests", latencies.Length);
        w.WriteNumber("requests_total", mine.Sum(r => r.Sent));
        w.WriteNumber("errors", mine.Sum(r => r.Errors));
        w.WriteNumber("non_2xx", mine.Sum(r => r.Non2xx));
        // Achieved rate over the target's measured time, counted to its last response (a run that falls behind shows here).
        w.WriteNumber("achieved_rps", latencies.Length / ((double)measuredPerTarget + Math.Max(0, lastDone - end)) * 1e9);
        foreach (var (name, p) in new[] { ("p50_ms", 50.0), ("p90_ms", 90.0), ("p99_ms", 99.0), ("p999_ms", 99.9) })
        {
            w.WriteNumber(name, Math.Round(Pct(latencies, p), 4));
        }

        w.WriteNumber("max_ms", latencies.Length == 0 ? double.NaN : Math.Round(latencies[^1] / 1e6, 4));
        w.WriteNumber("mean_ms", latencies.Length == 0 ? double.NaN : Math.Round(latencies.Average() / 1e6, 4));
        // From the actual send instead of the due time: what a closed-loop tool would report (for comparison only).
        w.WriteNumber("service_p50_ms", Math.Round(Pct(service, 50), 4));
        w.WriteNumber("service_p99_ms", Math.Round(Pct(service, 99), 4));
        // The latencies as a sparse histogram (µs → count; 1-µs buckets below 10 ms, 100-µs buckets above), so that
        // runs can be pooled into one set of percentiles rather than averaged percentile by percentile.
        w.WriteStartObject("histogram_us");
        foreach (var group in latencies.GroupBy(ns => ns < 10_000_000 ? ns / 1000 : ns / 100_000 * 100))
        {
            w.WriteNumber(group.Key.ToString(CultureInfo.InvariantCulture), group.Count());
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }

    w.WriteEndArray();
    w.WriteEndObject();
}

var json = Encoding.UTF8.GetString(stream.ToArray());
if (outFile is null)
{
    Console.WriteLine(json);
}
else
{
    File.WriteAllText(outFile, json);
}

if (slowLog is not null)
{
    // Where the tail is in time: clustered (a pause of the server) or spread (the machine's noise).
    var slow = new List<(long Due, int Target, long Latency)>();
    for (var t = 0; t < n; t++)
    {
        for (var c = 0; c < connections; c++)
        {
            var r = results[t, c];
            for (var i = 0; i < r.LatenciesNs.Count; i++)
            {
                if (r.LatenciesNs[i] >= slowMs * 1e6)
                {
                    slow.Add((r.DueNs[i], t, r.LatenciesNs[i]));
                }
            }
        }
    }

    File.WriteAllLines(slowLog, slow.Order().Select(x => string.Create(CultureInfo.InvariantCulture,
        $"{x.Target} {(x.Due - start) / 1e6:F3} {x.Latency / 1e6:F3}")));
}

return empty ? 1 : 0;

static ConnectionResult RunConnection(IPEndPoint endpoint, byte[] request, Schedule schedule, int target, long first)
{
    var result = new ConnectionResult();
    MonotonicClock.MinimizeTimerSlack();
    using var connection = new HttpConnection(endpoint, request);
    for (var due = first; due < schedule.End; due += schedule.GapNs)
    {
        if (schedule.Owner(due) != target)
        {
            continue;
        }

        if (MonotonicClock.NowNs() < due)
        {
            MonotonicClock.SleepUntil(due);
        }

        var sentAt = MonotonicClock.NowNs();
        result.Sent++;
        int status;
        try
        {
            status = connection.Exchange();
        }
        catch (IOException)
        {
            result.Errors++;
            continue;
        }

        var done = MonotonicClock.NowNs();
        result.LastDoneNs = done;
        if (status is < 200 or > 299)
        {
            result.Non2xx++;
        }

        if (due >= schedule.MeasureFrom)
        {
            result.LatenciesNs.Add(done - due);
            result.ServiceNs.Add(done - sentAt);
            result.DueNs.Add(due);
        }
    }

    return result;
}

internal sealed record Target(Uri Url, string? Host);

/// <summary>Which target a due time belongs to: slice k (from the start) belongs to target k mod N.</summary>
internal sealed record Schedule(long Start, long SliceNs, int Targets, long GapNs, long MeasureFrom, long End)
{
    public int Owner(long due) => Targets == 1 ? 0 : (int)((due - Start) / SliceNs % Targets);
}

internal sealed class ConnectionResult
{
    public List<long> LatenciesNs { get; } = new(64 * 1024);
    public List<long> ServiceNs { get; } = new(64 * 1024);
    public List<long> DueNs { get; } = new(64 * 1024);
    public long Sent { get; set; }
    public long Errors { get; set; }
    public long Non2xx { get; set; }
    public long LastDoneNs { get; set; }
}
