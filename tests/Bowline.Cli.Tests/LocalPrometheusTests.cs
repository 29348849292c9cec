using System.Diagnostics;
using System.Text.Json;
using Bowline.Cli.Up;

namespace Bowline.Cli.Tests;

public sealed class LocalPrometheusTests
{
    [Fact]
    public async Task WriteConfig_ScrapesEveryProxyAndTheControlPlane_AndPromtoolAcceptsIt()
    {
        var dir = Directory.CreateTempSubdirectory("bowline-prom-").FullName;
        try
        {
            var config = LocalPrometheus.WriteConfig(dir, 4000, [("reviews-v1-0", "default", 4001), ("istio-ingressgateway-0", "istio-system", 4002)]);

            var text = File.ReadAllText(config);
            Assert.Contains("scrape_interval: 1s", text);
            Assert.Contains("metrics_path: /stats/prometheus", text);
            Assert.Contains("targets: ['127.0.0.1:4000']", text);
            using var targets = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "proxies.json")));
            var first = targets.RootElement[0];
            Assert.Equal("127.0.0.1:4001", first.GetProperty("targets")[0].GetString());
            Assert.Equal("reviews-v1-0", first.GetProperty("labels").GetProperty("pod").GetString());
            Assert.Equal("istio-system", targets.RootElement[1].GetProperty("labels").GetProperty("namespace").GetString());

            // Prometheus' own checker (Debian package "prometheus", installed by .ci/run) reads the config and the file_sd file.
            using var promtool = Process.Start(new ProcessStartInfo("promtool", ["check", "config", config])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var output = promtool.StandardOutput.ReadToEndAsync();
            var errors = await promtool.StandardError.ReadToEndAsync();
            await promtool.WaitForExitAsync();
            Assert.True(promtool.ExitCode == 0, await output + errors);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Arguments_BindLoopbackAndKeepStorageInTheStateDir()
    {
        var args = LocalPrometheus.Arguments("/s/prometheus/prometheus.yml", "/s/prometheus", 9999);
        Assert.Contains("--web.listen-address=127.0.0.1:9999", args);
        Assert.Contains("--storage.tsdb.path=/s/prometheus/data", args);
    }
}
