using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Bowline.Proxy.Tests.Infrastructure;

namespace Bowline.Proxy.Tests.Metrics;

/// <summary>The Grafana dashboard in samples/addons/grafana reads only metrics Bowline's proxies export.</summary>
public sealed partial class DashboardTests
{
    // PromQL functions, aggregations and keywords the dashboard may use; any other identifier is a metric name.
    private static readonly HashSet<string> PromQl =
    [
        "sum", "rate", "irate", "increase", "histogram_quantile", "round", "count", "max", "min", "avg", "time", "by", "without",
        "label_values", "and", "or", "unless", "topk", "bottomk", "delta", "e", "Inf", "NaN",
    ];

    [GeneratedRegex(@"""(?:[^""\\]|\\.)*""|\{[^}]*\}|\[[^\]]*\]|\b(?:by|without)\s*\([^)]*\)")]
    private static partial Regex NonNames();

    [GeneratedRegex(@"(?<![\w$])[a-zA-Z_:][a-zA-Z0-9_:]*")]
    private static partial Regex Identifier();

    [Fact]
    public async Task EveryExpression_ReferencesOnlyMetricsBowlineEmits()
    {
        var emitted = await EmittedNamesAsync();
        using var doc = JsonDocument.Parse(File.ReadAllText(DashboardPath()));
        var queries = new List<string>();
        Collect(doc.RootElement, queries);
        Assert.True(queries.Count > 20, $"only {queries.Count} queries found");

        foreach (var query in queries)
        {
            // label_values(metric{...}, label): the label is no metric.
            var expression = query.StartsWith("label_values(", StringComparison.Ordinal) ? query[..query.LastIndexOf(',')] : query;
            var names = Identifier().Matches(NonNames().Replace(expression, " ")).Select(m => m.Value).Where(n => !PromQl.Contains(n)).ToList();
            Assert.True(names.Count > 0, $"no metric in: {query}");
            foreach (var name in names)
            {
                Assert.True(emitted.Contains(name), $"'{name}' is not a metric Bowline emits (in: {query})");
            }
        }
    }

    /// <summary>Every "expr" of a panel target and every "query" string of a templating variable.</summary>
    private static void Collect(JsonElement element, List<string> queries)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in element.EnumerateObject())
                {
                    if (p.Value.ValueKind == JsonValueKind.String && (p.Name == "expr" || (p.Name == "query" && p.Value.GetString()!.StartsWith("label_values", StringComparison.Ordinal))))
                    {
                        queries.Add(p.Value.GetString()!);
                    }
                    else
                    {
                        Collect(p.Value, queries);
                    }
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Collect(item, queries);
                }

                break;
        }
    }

    /// <summary>Sample names from real proxies' exposition: HTTP, gRPC and TCP series, health and config counters.</summary>
    private static async Task<HashSet<string>> EmittedNamesAsync()
    {
        await using var mesh = await MetricsMesh.StartAsync();
        using var client = Clients.ViaProxy(mesh.Caller.ListenerUri("outbound"));
        using (var response = await client.GetAsync("http://reviews:9080/"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await MetricsMesh.SampleAsync(mesh.Caller, "istio_requests_total", "reporter=\"source\"");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in mesh.Caller.Metrics.Render().Split('\n').Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)))
        {
            var parts = line.Split(' ');
            names.Add(parts[2]);
            if (parts[3] == "histogram")
            {
                names.UnionWith([parts[2] + "_bucket", parts[2] + "_sum", parts[2] + "_count"]);
            }
        }

        return names;
    }

    private static string DashboardPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "samples", "addons", "grafana", "bowline-mesh.json");
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new FileNotFoundException("samples/addons/grafana/bowline-mesh.json not found above " + AppContext.BaseDirectory);
    }
}
