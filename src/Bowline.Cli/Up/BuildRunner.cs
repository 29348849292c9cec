using System.Diagnostics;
using System.Text;

namespace Bowline.Cli.Up;

/// <summary>Runs the distinct <c>bowline.io/build</c> commands, one at a time, before anything starts.</summary>
internal static class BuildRunner
{
    public static async Task<bool> RunAllAsync(IEnumerable<DeploymentManifest> deployments, CliContext context, CancellationToken cancel)
    {
        var builds = deployments
            .Where(d => !string.IsNullOrWhiteSpace(d.Build))
            .Select(d => (d.Folder, Command: d.Build!))
            .Distinct();
        foreach (var (folder, command) in builds)
        {
            context.Out.WriteLine($"build: {command}  (in {folder})");
            var (exitCode, output) = await RunAsync(folder, command, cancel);
            if (exitCode != 0)
            {
                context.Error.Write(output);
                context.Error.WriteLine($"error: build failed (exit code {exitCode}): {command}  (in {folder})");
                return false;
            }
        }
        return true;
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string folder, string command, CancellationToken cancel)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            ArgumentList = { "-c", command },
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start: {command}");
        process.StandardInput.Close();
        // Interleaved as the build wrote it, as far as two pipes allow.
        var output = new StringBuilder();
        void Append(object _, DataReceivedEventArgs e)
        {
            if (e.Data is not null)
            {
                lock (output)
                {
                    output.AppendLine(e.Data);
                }
            }
        }
        process.OutputDataReceived += Append;
        process.ErrorDataReceived += Append;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(cancel);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }
    }
}
