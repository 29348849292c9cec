using System.Globalization;

namespace Bowline.Cli.Up;

/// <summary>
/// A file listing every process <c>up</c> started (pid, kernel start time, name), so that a later <c>up</c> can stop
/// what an earlier one left running when it was killed without a chance to clean up (SIGKILL, OOM, a crash). Children
/// run in their own sessions, so nothing else would ever stop them. The start time guards against a recycled pid.
/// </summary>
internal sealed class ProcessLedger(string path)
{
    private readonly Lock _gate = new();

    public string Path { get; } = path;

    public void Record(int pid, string name)
    {
        if (StartTime(pid) is not { } started)
        {
            return; // already gone: nothing to stop later
        }

        lock (_gate)
        {
            File.AppendAllText(Path, FormattableString.Invariant($"{pid} {started} {name}\n"));
        }
    }

    /// <summary>The recorded processes still alive as the very same process (pid and start time both match).</summary>
    public IReadOnlyList<(int Pid, string Name)> Survivors()
    {
        if (!File.Exists(Path))
        {
            return [];
        }

        var alive = new List<(int, string)>();
        foreach (var line in File.ReadAllLines(Path))
        {
            var parts = line.Split(' ', 3);
            if (parts.Length == 3
                && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var started)
                && StartTime(pid) == started)
            {
                alive.Add((pid, parts[2]));
            }
        }

        return alive;
    }

    /// <summary>Stops every survivor's process group: SIGTERM, then SIGKILL after <paramref name="grace"/>.</summary>
    public async Task<IReadOnlyList<(int Pid, string Name)>> StopSurvivorsAsync(TimeSpan grace)
    {
        var survivors = Survivors();
        foreach (var (pid, _) in survivors)
        {
            Signal(pid, Signals.Term);
        }

        var deadline = DateTime.UtcNow + grace;
        while (survivors.Any(s => Signals.GroupExists(s.Pid)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        foreach (var (pid, _) in survivors.Where(s => Signals.GroupExists(s.Pid)))
        {
            Signal(pid, Signals.Kill);
        }

        return survivors;
    }

    private static void Signal(int pid, int signal)
    {
        if (!Signals.SendToGroup(pid, signal))
        {
            Signals.Send(pid, signal);
        }
    }

    /// <summary>Field 22 of /proc/PID/stat: start time in clock ticks since boot; null when the process is gone.</summary>
    internal static long? StartTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // fields[0] is field 3 (state), so field 22 is fields[19].
            return long.Parse(fields[19], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }
}
