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
const string Usage = "usage: loadgen --url http://127.0.0.1:PORT/path [--host HOST] [--rate 1000] [--connections 16] [--duration 30] [--warmup 5] [--out FILE]";

Uri? url = null;
string? host = null;
double rate = 1000, duration = 30, warmup = 5;
var connections = 16;
string? outFile = null;
try
{
    for (var i = 0; i < args.Length; i++)
    {
        string Value() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{args[i]} needs a value");
        switch (args[i])
        {
            case "--url": url = new Uri(Value()); break;
            case "--host": host = Value(); break;
            case "--rate": rate = double.Parse(Value(), CultureInfo.InvariantCulture); break;
            case "--connections": connections = int.Parse(Value(), CultureInfo.InvariantCulture); break;
            case "--duration": duration = double.Parse(Value(), CultureInfo.InvariantCulture); break;
            case "--warmup": warmup = double.Parse(Value(), CultureInfo.InvariantCulture); break;
            case "--out": outFile = Value(); break;
            default: throw new FormatException($"unknown argument {args[i]}");
        }
    }

    if (url is null || rate <= 0 || connections <= 0 || duration <= 0)
    {
        throw new FormatException("--url is required; rate, connections, duration must be positive");
    }
}
catch (FormatException e)
{
    Console.Error.WriteLine($"loadgen: {e.Message}\n{Usage}");
    return 2;
}

var endpoint = new IPEndPoint(IPAddress.Parse(url.Host), url.Port);
var request = Encoding.ASCII.GetBytes($"GET {url.PathAndQuery} HTTP/1.1\r\nHost: {host ?? url.Authority}\r\nUser-Agent: bowline-loadgen\r\n\r\n");
var gapNs = (long)(connections / rate * 1e9);
var start = MonotonicClock.NowNs() + 50_000_000;
var measureFrom = start + (long)(warmup * 1e9);
var end = measureFrom + (long)(duration * 1e9);

var results = new ConnectionResult[connections];
var threads = new Thread[connections];
for (var c = 0; c < connections; c++)
{
    var index = c;
    threads[c] = new Thread(() => results[index] = RunConnection(endpoint, request, start + (index * gapNs / connections), gapNs, measureFrom, end))
    {
        IsBackground = true,
        Name = $"conn-{c}",
    };
    threads[c].Start();
}

foreach (var t in threads)
{
    t.Join();
}

var latencies = results.SelectMany(r => r.LatenciesNs).Order().ToArray();
var service = results.SelectMany(r => r.ServiceNs).Order().ToArray();
var sent = results.Sum(r => r.Sent);
var errors = results.Sum(r => r.Errors);
var non2xx = results.Sum(r => r.Non2xx);
var lastDone = results.Max(r => r.LastDoneNs);

double Pct(long[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p / 100 * sorted.Length) - 1)] / 1e6;

using var stream = new MemoryStream();
using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
{
    w.WriteStartObject();
    w.WriteNumber("rate", rate);
    w.WriteNumber("connections", connections);
    w.WriteNumber("duration_s", duration);
    w.WriteNumber("warmup_s", warmup);
    w.WriteNumber("requests", latencies.Length);
    w.WriteNumber("requests_total", sent);
    w.WriteNumber("errors", errors);
    w.WriteNumber("non_2xx", non2xx);
    // Achieved rate over the measured window, counted to the last response (a run that falls behind shows here).
    w.WriteNumber("achieved_rps", (double)latencies.Length / (Math.Max(lastDone, end) - measureFrom) * 1e9);
    foreach (var (name, p) in new[] { ("p50_ms", 50.0), ("p90_ms", 90.0), ("p99_ms", 99.0), ("p999_ms", 99.9) })
    {
        w.WriteNumber(name, Math.Round(Pct(latencies, p), 4));
    }

    w.WriteNumber("max_ms", latencies.Length == 0 ? double.NaN : Math.Round(latencies[^1] / 1e6, 4));
    w.WriteNumber("mean_ms", latencies.Length == 0 ? double.NaN : Math.Round(latencies.Average() / 1e6, 4));
    // From the actual send instead of the due time: what a closed-loop tool would report (for comparison only).
    w.WriteNumber("service_p50_ms", Math.Round(Pct(service, 50), 4));
    w.WriteNumber("service_p99_ms", Math.Round(Pct(service, 99), 4));
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

return latencies.Length == 0 ? 1 : 0;

static ConnectionResult RunConnection(IPEndPoint endpoint, byte[] request, long first, long gapNs, long measureFrom, long end)
{
    var result = new ConnectionResult();
    MonotonicClock.MinimizeTimerSlack();
    using var connection = new HttpConnection(endpoint, request);
    for (var due = first; due < end; due += gapNs)
    {
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

        if (due >= measureFrom)
        {
            result.LatenciesNs.Add(done - due);
            result.ServiceNs.Add(done - sentAt);
        }
    }

    return result;
}

internal sealed class ConnectionResult
{
    public List<long> LatenciesNs { get; } = new(64 * 1024);
    public List<long> ServiceNs { get; } = new(64 * 1024);
    public long Sent { get; set; }
    public long Errors { get; set; }
    public long Non2xx { get; set; }
    public long LastDoneNs { get; set; }
}
