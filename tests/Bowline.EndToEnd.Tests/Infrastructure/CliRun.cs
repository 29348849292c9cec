using System.Diagnostics;

namespace Bowline.EndToEnd.Tests.Infrastructure;

internal sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>Runs the real `bowline` CLI as a process, the way a user would.</summary>
internal static class CliRun
{
    public static async Task<CliResult> RunAsync(string bowlineHome, TimeSpan timeout, params string[] args)
    {
        using var process = new Process { StartInfo = StartInfo(bowlineHome, args) };
        process.Start();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bowline {string.Join(' ', args)} did not finish in {timeout}");
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    public static ProcessStartInfo StartInfo(string bowlineHome, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Repo.Root,
        };
        psi.ArgumentList.Add(Repo.CliDll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["BOWLINE_HOME"] = bowlineHome;
        return psi;
    }
}
