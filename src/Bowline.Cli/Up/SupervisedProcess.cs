using System.Diagnostics;

namespace Bowline.Cli.Up;

/// <summary>
/// A child started by <see cref="ProcessSupervisor"/>: the leader of its own process group (so everything it spawns is
/// stopped with it), writing stdout and stderr straight to its log file.
/// </summary>
internal sealed class SupervisedProcess : IDisposable
{
    private readonly Process _process;
    private volatile bool _stopRequested;

    internal SupervisedProcess(string name, string logPath, Process process)
    {
        Name = name;
        LogPath = logPath;
        _process = process;
        Pid = process.Id;
        Exited = WaitAsync();
    }

    public string Name { get; }
    public string LogPath { get; }
    /// <summary>The pid, which is also the process group id.</summary>
    public int Pid { get; }
    /// <summary>Completes with the exit code when the process (the group leader) has exited and been reaped.</summary>
    public Task<int> Exited { get; }
    public bool HasExited => Exited.IsCompleted;
    /// <summary>True once <see cref="StopAsync"/> was called: an exit after that is expected.</summary>
    public bool StopRequested => _stopRequested;

    /// <summary>SIGTERM to the whole group, then SIGKILL to whatever is left after <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        _stopRequested = true;
        Signal(Signals.Term);
        if (!await GroupGoneAsync(grace))
        {
            Signal(Signals.Kill);
            // SIGKILL cannot be refused; this only waits for the kernel and the reapers (.NET for the leader, init for the rest).
            await GroupGoneAsync(TimeSpan.FromSeconds(5));
        }
    }

    /// <summary>
    /// To the group; to the pid alone when the group does not exist yet (a stop right after start, before the child's
    /// setsid ran — the child is then still the one process there is).
    /// </summary>
    private void Signal(int signal)
    {
        if (!Signals.SendToGroup(Pid, signal))
        {
            Signals.Send(Pid, signal);
        }
    }

    /// <summary>The last <paramref name="count"/> lines of the log (the log may still be being written).</summary>
    public IReadOnlyList<string> Tail(int count) => LogTail.Read(LogPath, count);

    public void Dispose() => _process.Dispose();

    /// <summary>Waits for the leader to be reaped and then for the rest of its group (which may still be shutting down).</summary>
    private async Task<bool> GroupGoneAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await Exited.WaitAsync(deadline.Token);
            while (Signals.GroupExists(Pid))
            {
                await Task.Delay(20, deadline.Token);
            }
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task<int> WaitAsync()
    {
        await _process.WaitForExitAsync();
        return _process.ExitCode;
    }
}
