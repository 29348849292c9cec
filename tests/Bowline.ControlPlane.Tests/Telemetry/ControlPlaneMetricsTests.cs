using System.Diagnostics;
using System.Globalization;
using Bowline.ControlPlane.Generation;
using Bowline.ControlPlane.Tests.Push;

namespace Bowline.ControlPlane.Tests.Telemetry;

/// <summary>The control plane's /metrics (istiod's names) over a real stream: connects, pushes, NACKs, applies.</summary>
public sealed class ControlPlaneMetricsTests
{
    private static double Value(string exposition, string sample)
    {
        var line = exposition.Split('\n').Single(l => l.StartsWith(sample + " ", StringComparison.Ordinal));
        return double.Parse(line[(sample.Length + 1)..], CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Metrics_CountProxiesPushesRejectsAndConfigEvents()
    {
        await using var f = await ControlPlaneFixture.StartAsync();
        var (status, _) = await f.ApplyAsync(Bookinfo.All, "bookinfo.yaml");
        Assert.Equal(System.Net.HttpStatusCode.OK, status);

        await using var client = await XdsTestClient.ConnectAsync(f.BaseAddress, "productpage-v1-0", autoAck: false);
        var first = await client.WaitForResponseAsync();
        await client.AckAsync(first);
        var text = "";
        await Wait.UntilAsync(async () => Value(text = await f.Http.GetStringAsync("/metrics"), "pilot_xds") == 1, "one proxy connected");
        Assert.True(Value(text, "pilot_xds_pushes{type=\"lds\"}") >= 1);
        Assert.True(Value(text, "pilot_xds_pushes{type=\"cds\"}") >= 1);
        Assert.True(Value(text, "pilot_k8s_cfg_events{type=\"virtualservice\",event=\"add\"}") >= 1);
        Assert.True(Value(text, "pilot_virt_services") >= 1);

        // A change reaches the proxy: its convergence is observed. A NACKed delta is re-sent whole; a NACKed whole
        // config is a reject.
        var before = Value(text, "pilot_proxy_convergence_time_count");
        var change = Bookinfo.ReviewsRoutes.Replace("subset: v2", "subset: v3", StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await f.ApplyAsync(change, "reviews.yaml")).Status);
        var second = await client.WaitForResponseAsync(2);
        await client.NackAsync(second, first.Version, "test says no");
        if (second.Delta is not null)
        {
            await client.NackAsync(await client.WaitForResponseAsync(3), first.Version, "test says no again");
        }

        await Wait.UntilAsync(async () => Value(text = await f.Http.GetStringAsync("/metrics"), "pilot_total_xds_rejects") == 1
            && Value(text, "pilot_proxy_convergence_time_count") > before, "reject and convergence observed");

        // A refused apply counts its validation errors.
        var (refused, result) = await f.ApplyAsync("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: bad}\nspec: {hosts: [x], http: [{route: [{destination: {host: x}, weight: ten}]}]}\n", "bad.yaml");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused);
        Assert.NotEmpty(result.Errors);
        text = await f.Http.GetStringAsync("/metrics");
        Assert.True(Value(text, "galley_validation_failed") >= 1);

        Check(text);
    }

    /// <summary>promtool parses the exposition; the control plane's names follow Prometheus' conventions, so no advice either.</summary>
    private static void Check(string exposition)
    {
        using var promtool = Process.Start(new ProcessStartInfo("promtool", "check metrics")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        }) ?? throw new InvalidOperationException("promtool did not start (apt-get install prometheus)");
        promtool.StandardInput.Write(exposition);
        promtool.StandardInput.Close();
        var output = promtool.StandardOutput.ReadToEndAsync();
        var errors = promtool.StandardError.ReadToEnd();
        promtool.WaitForExit();
        var advice = (output.Result + errors).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            // istiod's own names: counters without "_total", as in Istio's dashboards.
            .Where(l => !l.Contains("counter metrics should have \"_total\" suffix", StringComparison.Ordinal))
            .ToArray();
        Assert.True(promtool.ExitCode is 0 or 3, $"promtool exit {promtool.ExitCode}: {output.Result}{errors}");
        Assert.Empty(advice);
    }
}
