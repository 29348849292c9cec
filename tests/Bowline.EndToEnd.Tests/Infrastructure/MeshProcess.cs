using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Bowline.EndToEnd.Tests.Infrastructure;

/// <summary>
/// `bowline up DIR --gateway-ports auto` as a real process tree (control plane, apps, sidecars, gateway), in its own
/// BOWLINE_HOME. Stopped with SIGTERM, as Ctrl-C would, and checked to leave nothing listening.
/// </summary>
internal sealed class MeshProcess : IAsyncDisposable
{
    private readonly Process _up;
    private readonly StringBuilder _output = new();

    private MeshProcess(Process up, string home)
    {
        _up = up;
        Home = home;
    }

    public string Home { get; }
    public string ControlPlane { get; private set; } = "";
    public Uri Gateway { get; private set; } = null!;
    public IReadOnlyList<string> AdminAddresses { get; private set; } = [];
    /// <summary>The Prometheus `up` started (null when it did not: not installed, or --no-prometheus).</summary>
    public Uri? Prometheus { get; private set; }
    public TimeSpan ReadyAfter { get; private set; }
    public string Output { get { lock (_output) { return _output.ToString(); } } }

    public static async Task<MeshProcess> StartAsync(string sampleDir)
    {
        var home = Directory.CreateTempSubdirectory("bowline-e2e-").FullName;
        var up = new Process { StartInfo = CliRun.StartInfo(home, ["up", sampleDir, "--gateway-ports", "auto"]) };
        var mesh = new MeshProcess(up, home);
        up.OutputDataReceived += (_, e) => mesh.Append(e.Data);
        up.ErrorDataReceived += (_, e) => mesh.Append(e.Data);
        var started = Stopwatch.StartNew();
        up.Start();
        up.BeginOutputReadLine();
        up.BeginErrorReadLine();
        try
        {
            // The first run builds the sample apps, so the deadline is generous; readiness is mesh.json appearing.
            var meshJson = Path.Combine(home, "mesh.json");
            await Eventually.TrueAsync(() =>
            {
                if (up.HasExited)
                {
                    throw new InvalidOperationException($"bowline up exited with {up.ExitCode}:\n{mesh.Output}");
                }

                return Task.FromResult(File.Exists(meshJson));
            }, TimeSpan.FromMinutes(4), "bowline up to write mesh.json");
            mesh.ReadyAfter = started.Elapsed;
            mesh.Load(await File.ReadAllTextAsync(meshJson));
            return mesh;
        }
        catch
        {
            await mesh.DisposeAsync();
            throw;
        }
    }

    public Task<CliResult> CliAsync(params string[] args) => CliRun.RunAsync(Home, TimeSpan.FromMinutes(1), args);

    private void Load(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        ControlPlane = root.GetProperty("controlPlane").GetString()!;
        var gateway = root.GetProperty("gateways").EnumerateArray().First().GetProperty("address").GetString()!;
        Gateway = new Uri($"http://{gateway}/");
        AdminAddresses = root.GetProperty("proxies").EnumerateArray().Select(p => p.GetProperty("admin").GetString()!).ToList();
        Prometheus = root.TryGetProperty("prometheus", out var prometheus) && prometheus.GetString() is { } url ? new Uri(url + "/") : null;
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_up.HasExited)
        {
            Signals.Send(_up.Id, Signals.SigTerm);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _up.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _up.Kill(entireProcessTree: true);
            }
        }

        _up.Dispose();
        try
        {
            Directory.Delete(Home, recursive: true);
        }
        catch (IOException)
        {
            // A log still being flushed by a dying child; the temp folder is harmless.
        }
    }
}
