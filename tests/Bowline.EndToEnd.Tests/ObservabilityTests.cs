using System.Text.Json;
using Bowline.EndToEnd.Tests.Infrastructure;

namespace Bowline.EndToEnd.Tests;

/// <summary>
/// Istio's observability tasks on bookinfo, for real: `bowline up`, then the mesh config (ConfigMap istio-system/istio)
/// applied with `bowline apply` turning on 100 % tracing to an OTLP collector and JSON access logs on stdout.
/// </summary>
[Collection(nameof(ObservabilityTests))]
public sealed class ObservabilityTests(BookinfoMeshFixture fixture) : IClassFixture<BookinfoMeshFixture>
{
    private const int Server = 2;
    private const int Client = 3;
    private static readonly TimeSpan Resync = TimeSpan.FromSeconds(20);
    private MeshProcess Mesh => fixture.Mesh;

    private static string MeshConfig(int collectorPort) => $"""
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: istio
          namespace: istio-system
        data:
          mesh: |-
            accessLogFile: /dev/stdout
            accessLogEncoding: JSON
            enableTracing: true
            defaultConfig:
              tracing:
                sampling: 100
            extensionProviders:
            - name: otel
              opentelemetry:
                service: 127.0.0.1
                port: {collectorPort}
                http:
                  path: /v1/traces
            defaultProviders:
              tracing: [otel]
        """;

    [Fact]
    public async Task MeshConfigTracing_OneProductPageRequest_OneConnectedTraceGatewayToRatings_AndJsonAccessLogs()
    {
        await using var collector = await SpanCollector.StartAsync();
        var meshFile = Path.Combine(Mesh.Home, "mesh-config.yaml");
        await File.WriteAllTextAsync(meshFile, MeshConfig(collector.Port));
        // reviews v3 calls ratings: the trace then crosses all four hops.
        var routing = Path.Combine(Repo.Sample("bookinfo"), "networking");
        var applied = await Mesh.CliAsync("apply", "-f", meshFile, "-f", Path.Combine(routing, "destination-rule-all.yaml"),
            "-f", Path.Combine(routing, "virtual-service-reviews-v3.yaml"));
        Assert.True(applied.ExitCode == 0, applied.ToString());
        await ProxyStatusReader.WaitAllAsync(Mesh, "SYNCED", Resync);

        var requestId = Guid.NewGuid().ToString();
        using (var http = new HttpClient { BaseAddress = Mesh.Gateway, Timeout = TimeSpan.FromSeconds(20) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "productpage");
            request.Headers.TryAddWithoutValidation("x-request-id", requestId);
            using var response = await http.SendAsync(request);
            var page = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, page);
            Assert.Contains("reviews-v3", page, StringComparison.Ordinal);
        }

        // gateway, productpage in, productpage → details, details in, productpage → reviews, reviews in,
        // reviews → ratings, ratings in: eight spans, exported by six proxies in their own time.
        List<CollectedSpan> trace = [];
        await Eventually.TrueAsync(() =>
        {
            var gateway = collector.Spans.FirstOrDefault(s => s.Service == "istio-ingressgateway.istio-system" && s.Attributes["guid:x-request-id"] == requestId);
            trace = gateway is null ? [] : [.. collector.Spans.Where(s => s.TraceId == gateway.TraceId)];
            return Task.FromResult(trace.Count >= 8);
        }, TimeSpan.FromSeconds(30), "the request's eight spans");

        // More only when an app call was retried under load (bookinfo's productpage retries reviews): each try is a span.
        var dump = string.Join("\n", trace.Select(t => $"{t.Service} {t.Kind} {t.Name} {t.SpanId} <- {t.ParentSpanId} {t.Attributes["http.status_code"]}"));
        Assert.True(trace.Count >= 8, dump);
        Assert.All(trace, s => Assert.Equal(requestId, s.Attributes["guid:x-request-id"]));
        var byId = trace.ToDictionary(s => s.SpanId);
        var root = Assert.Single(trace, s => s.ParentSpanId is null);
        Assert.Equal("istio-ingressgateway.istio-system", root.Service);
        Assert.Equal(Server, root.Kind);
        Assert.Equal("productpage.default.svc.cluster.local:9080/*", root.Name);

        CollectedSpan Child(CollectedSpan parent, string service, int kind, string name)
        {
            var child = trace.LastOrDefault(s => s.ParentSpanId == parent.SpanId && s.Service == service && s.Kind == kind && s.Name == name);
            Assert.True(child is not null, $"no {service} {name} span under {parent.SpanId}:\n{dump}");
            return child;
        }

        var productpage = Child(root, "productpage.default", Server, "productpage.default.svc.cluster.local:9080/*");
        var toDetails = Child(productpage, "productpage.default", Client, "details.default.svc.cluster.local:9080/*");
        Child(toDetails, "details.default", Server, "details.default.svc.cluster.local:9080/*");
        var toReviews = Child(productpage, "productpage.default", Client, "reviews.default.svc.cluster.local:9080/*");
        var reviews = Child(toReviews, "reviews.default", Server, "reviews.default.svc.cluster.local:9080/*");
        Assert.Equal("v3", reviews.Attributes["istio.canonical_revision"]);
        var toRatings = Child(reviews, "reviews.default", Client, "ratings.default.svc.cluster.local:9080/*");
        var ratings = Child(toRatings, "ratings.default", Server, "ratings.default.svc.cluster.local:9080/*");
        Assert.Equal("outbound|9080|v3|reviews.default.svc.cluster.local", toReviews.Attributes["upstream_cluster"]);
        Assert.Equal("200", root.Attributes["http.status_code"]);
        Assert.All(trace, s => Assert.True(byId.ContainsKey(s.ParentSpanId ?? root.SpanId)));
        Assert.Equal("ratings", ratings.Attributes["istio.canonical_service"]);

        // The same request in the gateway's access log (its stdout), as Istio's JSON.
        var line = await Eventually.WaitAsync(() => Task.FromResult(AccessLogLine(requestId, "istio-ingressgateway")), TimeSpan.FromSeconds(20), "the gateway's access log line");
        using var log = JsonDocument.Parse(line);
        Assert.Equal(200, log.RootElement.GetProperty("response_code").GetInt32());
        Assert.Equal("/productpage", log.RootElement.GetProperty("path").GetString());
        Assert.Equal("outbound|9080||productpage.default.svc.cluster.local", log.RootElement.GetProperty("upstream_cluster").GetString());
        Assert.Equal("-", log.RootElement.GetProperty("response_flags").GetString());
    }

    /// <summary>A JSON access log line with the request id from a proxy's log (the output `up` keeps per process).</summary>
    private string? AccessLogLine(string requestId, string processPrefix)
    {
        var logs = Path.Combine(Mesh.Home, "state", "logs");
        foreach (var file in Directory.GetFiles(logs, processPrefix + "*.log"))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            while (reader.ReadLine() is { } l)
            {
                if (l.StartsWith('{') && l.Contains(requestId, StringComparison.Ordinal))
                {
                    return l;
                }
            }
        }

        return null;
    }
}
