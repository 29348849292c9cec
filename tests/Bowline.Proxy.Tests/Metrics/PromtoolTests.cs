using System.Diagnostics;
using System.Net;
using Bowline.Proxy.Tests.Infrastructure;

namespace Bowline.Proxy.Tests.Metrics;

/// <summary>
/// Prometheus' own linter reads every proxy's exposition. promtool (Debian package "prometheus", installed by .ci/run)
/// exits 1 when it cannot parse the text and 3 for lint advice. The only advice accepted is about the names Istio and
/// Envoy chose and dashboards depend on: istio_request_duration_milliseconds (not seconds) and Envoy's counters without
/// "_total".
/// </summary>
public sealed class PromtoolTests
{
    [Fact]
    public async Task ProxyExposition_PassesPromtoolCheckMetrics()
    {
        await using var mesh = await MetricsMesh.StartAsync();
        using var client = Clients.ViaProxy(mesh.Caller.ListenerUri("outbound"));
        using (var response = await client.GetAsync("http://reviews:9080/"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await MetricsMesh.SampleAsync(mesh.Callee, "istio_requests_total", "reporter=\"destination\"");
        foreach (var proxy in (ProxyUnderTest[])[mesh.Caller, mesh.Callee])
        {
            var tcp = proxy.Metrics.Tcp(proxy.Manager.Current!.ListenersByServer.Values.First(), null, null);
            tcp.Opened();
            tcp.Received(10);
            tcp.Sent(20);
            tcp.Closed();
            Check(proxy.Metrics.Render());
        }
    }

    /// <summary>Runs promtool check metrics on the text; fails on parse errors and on lint advice outside the allowed list.</summary>
    internal static void Check(string exposition)
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
        var advice = (output.Result + errors).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(promtool.ExitCode is 0 or 3, $"promtool exit {promtool.ExitCode}: {string.Join('\n', advice)}");
        foreach (var line in advice)
        {
            Assert.True(Accepted(line), $"promtool: {line}");
        }
    }

    private static bool Accepted(string line) =>
        line.Contains("use base unit \"seconds\" instead of \"milliseconds\"", StringComparison.Ordinal)
            && line.StartsWith("istio_request_duration_milliseconds", StringComparison.Ordinal)
        || line.Contains("counter metrics should have \"_total\" suffix", StringComparison.Ordinal)
            && line.StartsWith("envoy_", StringComparison.Ordinal);
}
