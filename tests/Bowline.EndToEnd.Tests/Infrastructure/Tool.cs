using System.Diagnostics;

namespace Bowline.EndToEnd.Tests.Infrastructure;

/// <summary>Runs a command-line tool (openssl, curl) to completion with stdin closed, as a user's shell would.</summary>
internal static class Tool
{
    public static async Task<CliResult> RunAsync(string workingDirectory, string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = new Process { StartInfo = psi };
        process.Start();
        process.StandardInput.Close(); // openssl s_client ends its session at end of input
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in 30 s");
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }
}
