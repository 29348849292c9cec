using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Bowline.EndToEnd.Tests.Infrastructure;

namespace Bowline.EndToEnd.Tests;

/// <summary>A dead control plane leaves proxies serving their last good config; a restarted one resyncs them.</summary>
public sealed class ControlPlaneOutageTests
{
    private static string Networking(string file) => Path.Combine(Repo.Sample("bookinfo"), "networking", file);

    [Fact]
    public async Task ControlPlaneKilled_ProxiesKeepServing_ThenResyncAfterRestart_AndUpStopsEverything()
    {
        var mesh = await MeshProcess.StartAsync(Repo.Sample("bookinfo"));
        Process? restarted = null;
        var restartedStoppedOnSigterm = true;
        try
        {
            Assert.Equal(0, (await mesh.CliAsync("apply", "-f", Networking("destination-rule-all.yaml"), "-f", Networking("virtual-service-all-v1.yaml"))).ExitCode);
            await ProxyStatusReader.WaitAllAsync(mesh, "SYNCED", TimeSpan.FromSeconds(20));
            var (pid, cmdline, cwd) = ControlPlaneProcess(mesh);
            var cpPort = new Uri(mesh.ControlPlane).Port;

            Signals.Send(pid, Signals.SigKill);
            await Eventually.TrueAsync(async () => !await IsListeningAsync(cpPort), TimeSpan.FromSeconds(10), "the control plane to be gone");

            using (var user = new BookinfoClient(mesh.Gateway))
            {
                Assert.Equal(new Dictionary<string, int> { ["reviews-v1"] = 30 }, await user.CountVersionsAsync(30));
            }

            var status = await mesh.CliAsync("proxy-status");
            Assert.Equal(1, status.ExitCode);

            restarted = StartLike(cmdline, cwd);
            await ProxyStatusReader.WaitAllAsync(mesh, "SYNCED", TimeSpan.FromSeconds(30));
            Assert.Equal(0, (await mesh.CliAsync("apply", "-f", Networking("virtual-service-reviews-test-v2.yaml"))).ExitCode);
            using var jason = new BookinfoClient(mesh.Gateway);
            await jason.LoginAsync("jason");
            await Eventually.TrueAsync(async () => await jason.ReviewsVersionAsync() == "reviews-v2", TimeSpan.FromSeconds(10), "jason on v2 after the restart");
        }
        finally
        {
            try
            {
                if (restarted is not null)
                {
                    Signals.Send(restarted.Id, Signals.SigTerm);
                    if (!restarted.WaitForExit(TimeSpan.FromSeconds(20)))
                    {
                        restartedStoppedOnSigterm = false;
                        restarted.Kill();
                    }

                    restarted.Dispose();
                }
            }
            finally
            {
                await mesh.DisposeAsync();
            }
        }

        Assert.True(restartedStoppedOnSigterm, "the control plane must stop on SIGTERM even with proxies connected");

        // SIGTERM to `up` stopped everything it started: no gateway, no proxy admin endpoint answers any more.
        Assert.False(await IsListeningAsync(mesh.Gateway.Port), "the gateway still listens after up stopped");
        foreach (var admin in mesh.AdminAddresses)
        {
            Assert.False(await IsListeningAsync(int.Parse(admin.Split(':')[1])), $"{admin} still listens after up stopped");
        }
    }

    private static (int Pid, string[] Cmdline, string Cwd) ControlPlaneProcess(MeshProcess mesh)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(mesh.Home, "mesh.json")));
        var pid = doc.RootElement.GetProperty("controlPlanePid").GetInt32();
        var cmdline = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        var cwd = new DirectoryInfo($"/proc/{pid}/cwd").ResolveLinkTarget(returnFinalTarget: true)!.FullName;
        return (pid, cmdline, cwd);
    }

    private static Process StartLike(string[] cmdline, string cwd)
    {
        var psi = new ProcessStartInfo(cmdline[0]) { WorkingDirectory = cwd, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in cmdline.Skip(1))
        {
            psi.ArgumentList.Add(arg);
        }

        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private static async Task<bool> IsListeningAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port).WaitAsync(TimeSpan.FromSeconds(2));
            return true;
        }
        catch (Exception e) when (e is SocketException or TimeoutException)
        {
            return false;
        }
    }
}
