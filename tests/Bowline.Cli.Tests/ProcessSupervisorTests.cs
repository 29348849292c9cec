using System.Diagnostics;
using Bowline.Cli.Up;

namespace Bowline.Cli.Tests;

public sealed class ProcessSupervisorTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly string _logs = Path.Combine(Path.GetTempPath(), $"bowline-sup-{Guid.NewGuid():N}");

    [Fact]
    public async Task StopsAChildWithSigtermAndLeavesNothingBehind()
    {
        await using var supervisor = new ProcessSupervisor(_logs);
        var child = supervisor.Start("sleeper", "sleep", ["60"]);
        Assert.True(Directory.Exists($"/proc/{child.Pid}"));
        // setsid runs in the child just after the fork, so the new group appears a moment after Start returns.
        var deadline = DateTime.UtcNow + Patience;
        while (ProcessGroupOf(child.Pid) != child.Pid && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.Equal(child.Pid, ProcessGroupOf(child.Pid));

        var stopwatch = Stopwatch.StartNew();
        await child.StopAsync(TimeSpan.FromSeconds(5));

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(4), "SIGTERM should have been enough");
        Assert.Equal(128 + Signals.Term, await child.Exited);
        Assert.False(Directory.Exists($"/proc/{child.Pid}"), "the child must be gone and reaped (no zombie)");
    }

    [Fact]
    public async Task SigkillsAChildThatIgnoresSigtermAfterTheGracePeriod()
    {
        await using var supervisor = new ProcessSupervisor(_logs);
        // The ignored TERM is inherited by sleep, so the whole group ignores it.
        var child = supervisor.Start("stubborn", "/bin/sh", ["-c", "trap '' TERM; echo trapped; sleep 60; echo never"]);
        await WaitForLogAsync(child, "trapped");

        await child.StopAsync(TimeSpan.FromMilliseconds(500));

        Assert.Equal(128 + Signals.Kill, await child.Exited);
        Assert.False(Directory.Exists($"/proc/{child.Pid}"));
        Assert.False(Signals.GroupExists(child.Pid), "the sleep inside must be killed with its group");
    }

    [Fact]
    public async Task StopsGrandchildrenWithTheirParent()
    {
        await using var supervisor = new ProcessSupervisor(_logs);
        var child = supervisor.Start("parent", "/bin/sh", ["-c", "sleep 60 & echo $!; wait"]);
        var grandchild = int.Parse((await WaitForLogAsync(child, "")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(Directory.Exists($"/proc/{grandchild}"));

        await supervisor.StopAllAsync(TimeSpan.FromSeconds(5));

        Assert.False(Signals.GroupExists(child.Pid));
        Assert.False(File.Exists($"/proc/{grandchild}/cmdline") && File.ReadAllText($"/proc/{grandchild}/cmdline").StartsWith("sleep", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ReportsAnUnexpectedExitWithItsCodeAndLogsTheOutput()
    {
        var exited = new TaskCompletionSource<(string Name, int Code)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var supervisor = new ProcessSupervisor(_logs, (child, code) => exited.TrySetResult((child.Name, code)));
        var other = supervisor.Start("survivor", "sleep", ["60"]);

        var crasher = supervisor.Start("crasher", "/bin/sh", ["-c", "echo to-stdout; echo to-stderr >&2; exit 3"]);

        Assert.Equal(("crasher", 3), await exited.Task.WaitAsync(Patience));
        Assert.Equal(["to-stdout", "to-stderr"], crasher.Tail(10));
        Assert.Equal(Path.Combine(_logs, "crasher.log"), crasher.LogPath);
        Assert.False(other.HasExited, "the others keep running");
    }

    [Fact]
    public async Task PassesWorkingDirectoryAndEnvironment()
    {
        var cwd = Directory.CreateTempSubdirectory("bowline-cwd-").FullName;
        try
        {
            await using var supervisor = new ProcessSupervisor(_logs);
            var child = supervisor.Start("env", "/bin/sh", ["-c", "echo \"$(pwd) $GREETING\""], cwd, [new("GREETING", "hello")]);
            Assert.Equal(0, await child.Exited.WaitAsync(Patience));
            Assert.Equal([$"{cwd} hello"], child.Tail(1));
        }
        finally
        {
            Directory.Delete(cwd, recursive: true);
        }
    }

    [Fact]
    public async Task DisposingTheSupervisorStopsEveryChild()
    {
        int[] pids;
        await using (var supervisor = new ProcessSupervisor(_logs))
        {
            pids = [.. Enumerable.Range(0, 3).Select(i => supervisor.Start($"s{i}", "sleep", ["60"]).Pid)];
        }
        Assert.All(pids, pid => Assert.False(Directory.Exists($"/proc/{pid}")));
    }

    public void Dispose()
    {
        if (Directory.Exists(_logs))
        {
            Directory.Delete(_logs, recursive: true);
        }
    }

    /// <summary>Field 5 of /proc/PID/stat (after the parenthesised command name).</summary>
    private static int ProcessGroupOf(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Polls the child's log until a non-empty line containing <paramref name="text"/> appears.</summary>
    private static async Task<string> WaitForLogAsync(SupervisedProcess child, string text)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < Patience)
        {
            if (child.Tail(10).FirstOrDefault(l => l.Length > 0 && l.Contains(text, StringComparison.Ordinal)) is { } line)
            {
                return line;
            }
            await Task.Delay(10);
        }
        throw new TimeoutException($"{child.Name} never logged '{text}'");
    }
}
