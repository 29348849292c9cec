using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Bowline.Cli.Up;

/// <summary>
/// The local Prometheus <c>up</c> runs beside the mesh: a scrape config for every proxy's admin
/// <c>/stats/prometheus</c> (file_sd, labelled with pod and namespace as Istio's kubernetes-pods job would) and the
/// control plane's <c>/metrics</c>, written to <c>&lt;state&gt;/prometheus/</c> whether or not Prometheus runs (so
/// any Prometheus can be pointed at it), and — when the <c>prometheus</c> binary is installed — Prometheus itself on a
/// free loopback port, with its storage under the state dir and a 1 s scrape interval for quick local feedback.
/// (On Kubernetes the same job would come from the pods' prometheus.io/scrape|port|path annotations.)
/// </summary>
internal static class LocalPrometheus
{
    public const string ScrapeInterval = "1s";

    /// <summary>The Prometheus binary: BOWLINE_PROMETHEUS, else <c>prometheus</c> on PATH; null when there is none.</summary>
    public static string? Binary
    {
        get
        {
            if (Environment.GetEnvironmentVariable("BOWLINE_PROMETHEUS") is { Length: > 0 } configured)
            {
                return File.Exists(configured) ? configured : null;
            }

            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            {
                var candidate = Path.Combine(dir, "prometheus");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            return null;
        }
    }

    /// <summary>Writes prometheus.yml and proxies.json into <paramref name="dir"/>; returns the config file's path.</summary>
    public static string WriteConfig(string dir, int controlPlanePort, IEnumerable<(string Pod, string Namespace, int AdminPort)> proxies)
    {
        Directory.CreateDirectory(dir);
        var targetsFile = Path.Combine(dir, "proxies.json");
        using (var stream = File.Create(targetsFile))
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartArray();
            foreach (var (pod, ns, adminPort) in proxies)
            {
                json.WriteStartObject();
                json.WriteStartArray("targets");
                json.WriteStringValue($"127.0.0.1:{adminPort.ToString(CultureInfo.InvariantCulture)}");
                json.WriteEndArray();
                json.WriteStartObject("labels");
                json.WriteString("pod", pod);
                json.WriteString("namespace", ns);
                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        var config = new StringBuilder()
            .Append("# Written by bowline up: every proxy's admin endpoint and the control plane.\n")
            .Append("global:\n")
            .Append("  scrape_interval: ").Append(ScrapeInterval).Append('\n')
            .Append("  evaluation_interval: ").Append(ScrapeInterval).Append('\n')
            .Append("scrape_configs:\n")
            .Append("  - job_name: envoy-stats\n")
            .Append("    metrics_path: /stats/prometheus\n")
            .Append("    file_sd_configs:\n")
            .Append("      - files: ['").Append(targetsFile).Append("']\n")
            .Append("  - job_name: bowline-controlplane\n")
            .Append("    metrics_path: /metrics\n")
            .Append("    static_configs:\n")
            .Append("      - targets: ['127.0.0.1:").Append(controlPlanePort.ToString(CultureInfo.InvariantCulture)).Append("']\n")
            .ToString();
        var configFile = Path.Combine(dir, "prometheus.yml");
        File.WriteAllText(configFile, config);
        return configFile;
    }

    public static string[] Arguments(string configFile, string dir, int port) =>
    [
        "--config.file=" + configFile,
        "--web.listen-address=127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture),
        "--storage.tsdb.path=" + Path.Combine(dir, "data"),
        "--storage.tsdb.retention.time=1d",
    ];

    public static async Task<bool> IsReadyAsync(HttpClient http, int port, CancellationToken ct)
    {
        try
        {
            using var response = await http.GetAsync($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/-/ready", ct);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}
