using System.Collections.Concurrent;
using System.Diagnostics;

namespace Bowline.Cli.Up;

/// <summary>
/// Starts and stops <c>up</c>'s children. Each one runs as
/// <c>setsid /bin/sh -c 'exec "$@" &lt;/dev/null &gt;&gt;LOG 2&gt;&amp;1' ...</c>: setsid makes it the leader of its own
/// session and process group (so stopping it stops anything it spawned, and a terminal's Ctrl-C reaches only
/// <c>up</c>, which then stops the children in order), and the shell points stdout/stderr at the log file and then
/// execs, so the pid we hold is the real program's and its output reaches the file even if <c>up</c> dies.
/// .NET reaps every exited child, so none is left a zombie.
/// </summary>
internal sealed class ProcessSupervisor(
    string logsDir,
    Action<SupervisedProcess, int>? onUnexpectedExit = null,
    ProcessLedger? ledger = null) : IAsyncDisposable
{
    private const string Launcher = "log=$1; shift; exec \"$@\" </dev/null >>\"$log\" 2>&1";

    private readonly ConcurrentQueue<SupervisedProcess> _children = new();

    public IReadOnlyCollection<SupervisedProcess> Children => _children;

    /// <summary>Starts <paramref name="fileName"/> with <paramref name="args"/>; its output goes to logs/<paramref name="name"/>.log.</summary>
    public SupervisedProcess Start(
        string name,
        string fileName,
        IEnumerable<string> args,
        string? workingDirectory = null,
        IEnumerable<KeyValuePair<string, string>>? environment = null)
    {
        Directory.CreateDirectory(logsDir);
        var logPath = Path.Combine(logsDir, name + ".log");
        var start = new ProcessStartInfo("setsid") { UseShellExecute = false };
        foreach (var arg in (string[])["/bin/sh", "-c", Launcher, name, logPath, fileName, .. args])
        {
            start.ArgumentList.Add(arg);
        }
        if (workingDirectory is not null)
        {
            start.WorkingDirectory = workingDirectory;
        }
        foreach (var (key, value) in environment ?? [])
        {
            start.Environment[key] = value;
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {name}");
        ledger?.Record(process.Id, name);
        var child = new SupervisedProcess(name, logPath, process);
        _children.Enqueue(child);
        _ = ReportExitAsync(child);
        return child;
    }

    /// <summary>Stops every child at once (SIGTERM, then SIGKILL after <paramref name="grace"/>) and waits for all.</summary>
    public Task StopAllAsync(TimeSpan grace) => Task.WhenAll(_children.Select(c => c.StopAsync(grace)));

    public async ValueTask DisposeAsync()
    {
        await StopAllAsync(TimeSpan.FromSeconds(5));
        foreach (var child in _children)
        {
            child.Dispose();
        }
    }

    private async Task ReportExitAsync(SupervisedProcess child)
    {
        var code = await child.Exited;
        if (!child.StopRequested)
        {
            onUnexpectedExit?.Invoke(child, code);
        }
    }
}
