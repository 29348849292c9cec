using System.Globalization;
using System.Text.Json.Serialization;

namespace Bowline.Bench.XdsSim;

/// <summary>CPU seconds (utime + stime) and RSS of one process, from /proc.</summary>
internal sealed class ProcStats(int pid)
{
    private const double ClockTicks = 100;

    public double CpuSeconds()
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / ClockTicks;
    }

    public double RssMb()
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
            }
        }

        return 0;
    }
}

/// <summary>Peak RSS, sampled every 100 ms until stopped.</summary>
internal sealed class RssPeak : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _task;

    public RssPeak(ProcStats stats)
    {
        _task = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                var rss = stats.RssMb();
                Peak = Math.Max(Peak, rss);
                _phase = Math.Max(_phase, rss);
                try
                {
                    await Task.Delay(100, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });
    }

    private double _phase;

    public double Peak { get; private set; }

    /// <summary>The peak since the previous call (one phase of the run), then starts the next phase.</summary>
    public double EndPhase() => Math.Round(Interlocked.Exchange(ref _phase, 0), 1);

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _task;
    }

    public void Dispose() => _stop.Dispose();
}

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(Dictionary<string, object>))]
[JsonSerializable(typeof(Dictionary<string, object>[]))]
[JsonSerializable(typeof(double))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(long))]
internal sealed partial class SimJson : JsonSerializerContext;
