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
}
