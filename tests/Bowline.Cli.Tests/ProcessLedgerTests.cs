using System.Diagnostics;
using Bowline.Cli.Up;

namespace Bowline.Cli.Tests;

public sealed class ProcessLedgerTests : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("bowline-ledger-");

    [Fact]
    public async Task StopSurvivors_ChildLeftByADeadUp_IsStoppedWithItsGroup()
    {
        var ledger = new ProcessLedger(Path.Combine(_temp.FullName, "processes"));
        // What an up killed with SIGKILL leaves: a child in its own session, still running, recorded in the ledger.
        using var orphan = Process.Start(new ProcessStartInfo("setsid", ["/bin/sh", "-c", "sleep 60 & exec sleep 60"]) { UseShellExecute = false })!;
        ledger.Record(orphan.Id, "orphan");

        var stopped = await ledger.StopSurvivorsAsync(TimeSpan.FromSeconds(5));

        Assert.Equal([(orphan.Id, "orphan")], stopped);
        Assert.True(orphan.WaitForExit(TimeSpan.FromSeconds(10)), "the orphan must be stopped");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (Signals.GroupExists(orphan.Id) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.False(Signals.GroupExists(orphan.Id), "the background sleep in its group must be stopped too");
    }

    [Fact]
    public void Survivors_RecycledPidWithAnotherStartTime_IsNotConsideredOurs()
    {
        var path = Path.Combine(_temp.FullName, "processes");
        var self = Environment.ProcessId;
        var started = ProcessLedger.StartTime(self)!.Value;
        File.WriteAllText(path, $"{self} {started + 1} controlplane\n999999999 1 gone\n");

        Assert.Empty(new ProcessLedger(path).Survivors());
    }

    [Fact]
    public void Survivors_NoLedger_IsEmpty() =>
        Assert.Empty(new ProcessLedger(Path.Combine(_temp.FullName, "missing")).Survivors());

    public void Dispose() => _temp.Delete(recursive: true);
}
