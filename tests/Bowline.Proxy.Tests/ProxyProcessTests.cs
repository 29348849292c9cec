using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Bowline.Api.Xds;
using Bowline.Proxy.Tests.Infrastructure;
using static Bowline.Proxy.Tests.Infrastructure.Configs;

namespace Bowline.Proxy.Tests;

/// <summary>The real executable, as <c>bowline up</c> starts it.</summary>
public sealed class ProxyProcessTests
{
    [Fact]
    public async Task Main_ConfigPushed_BecomesReadyServesAndStopsGracefullyOnSigterm()
    {
        await using var backend = await TestBackend.StartAsync("b");
        await using var controlPlane = await FakeControlPlane.StartAsync();
        var adminPort = FreePort.Get();
        using var process = Process.Start(new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                Path.Combine(AppContext.BaseDirectory, "Bowline.Proxy.dll"),
                "--id", "p-0.default", "--pod", "p-0", "--namespace", "default",
                "--xds", controlPlane.Url.ToString().TrimEnd('/'), "--admin", $"127.0.0.1:{adminPort}",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        try
        {
            var stream = await controlPlane.NextStreamAsync();
            Assert.Equal("p-0.default", (await stream.ReceiveAsync()).Node.Id);
            var config = ConfigOf([Outbound()], [Table("outbound", Host("svc", ["*"], Route("c")))], [Cluster("c", backend.Port)]);
            await stream.SendAsync(new DiscoveryResponse { Version = "v1", Nonce = "n1", Config = config });
            Assert.Null((await stream.ReceiveAsync()).ErrorDetail);

            using var admin = Clients.Direct();
            admin.BaseAddress = new Uri($"http://127.0.0.1:{adminPort}");
            await Polling.UntilAsync(async () => (await admin.GetAsync("/ready")).StatusCode == HttpStatusCode.OK);
            using var dump = JsonDocument.Parse(await admin.GetStringAsync("/config_dump"));
            var outbound = dump.RootElement.GetProperty("bound").GetProperty("outbound").GetString();
            using var client = Clients.ViaProxy(new Uri($"http://{outbound}"));
            Assert.Equal("b", await client.GetStringAsync("http://svc/"));
            // A plaintext control-plane stream and plaintext listeners: OpenSSL (~4 MB resident) stays unloaded.
            Assert.DoesNotContain("libcrypto", await File.ReadAllTextAsync($"/proc/{process.Id}/maps"));

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString()]))
            {
                await kill.WaitForExitAsync();
            }

            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
            Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {await errors}");
            Assert.Contains("Config applied: version v1", await output);
            stream.Abort();
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }
    [Fact]
    public async Task Main_StartedInADirectoryTree_WatchesNoFiles()
    {
        // bowline up starts proxies in the user's directory: a config-file watcher there used one inotify watch per
        // directory below it (and the process's inotify instance, of which a user gets 128).
        var tree = Directory.CreateTempSubdirectory("bowline-cwd-");
        for (var i = 0; i < 20; i++)
        {
            Directory.CreateDirectory(Path.Combine(tree.FullName, $"d{i}", "sub"));
        }

        var adminPort = FreePort.Get();
        using var process = Process.Start(new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                Path.Combine(AppContext.BaseDirectory, "Bowline.Proxy.dll"),
                "--id", "p-0.default", "--pod", "p-0", "--namespace", "default",
                "--xds", $"http://127.0.0.1:{FreePort.Get()}", "--admin", $"127.0.0.1:{adminPort}",
            },
            WorkingDirectory = tree.FullName,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        try
        {
            using var admin = Clients.Direct();
            admin.BaseAddress = new Uri($"http://127.0.0.1:{adminPort}");
            // Host built and serving: whatever it watches is watched by now.
            await Polling.UntilAsync(async () =>
            {
                try
                {
                    using var response = await admin.GetAsync("/ready");
                    return true;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            });

            Assert.Equal(0, InotifyWatches(process.Id));
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            tree.Delete(recursive: true);
        }
    }

    /// <summary>Watches held by the process's inotify instances (Linux: one "inotify wd:" line per watch in fdinfo).</summary>
    private static int InotifyWatches(int pid)
    {
        var watches = 0;
        foreach (var fd in Directory.GetFiles($"/proc/{pid}/fd"))
        {
            if (new FileInfo(fd).LinkTarget == "anon_inode:inotify")
            {
                watches += File.ReadLines($"/proc/{pid}/fdinfo/{Path.GetFileName(fd)}").Count(l => l.StartsWith("inotify wd:", StringComparison.Ordinal));
            }
        }

        return watches;
    }
}

