using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Bowline.Api.Xds;
using Bowline.Proxy.Telemetry.AccessLog;
using Bowline.Proxy.Telemetry.Tracing;
using Bowline.Proxy.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using static Bowline.Proxy.Tests.Infrastructure.Configs;

namespace Bowline.Proxy.Tests.Telemetry;

/// <summary>Real proxies on real sockets, exporting to a real collector (a Kestrel app) and writing a real log file.</summary>
public sealed class TelemetryFunctionalTests
{
    private const string Trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    private const string Parent = "00f067aa0ba902b7";

    /// <summary>A span collector: keeps every POSTed body by path.</summary>
    private sealed class Collector
    {
        public ConcurrentQueue<(string Path, string ContentType, string Body)> Posts { get; } = new();

        public Task<TestBackend> StartAsync() => TestBackend.StartAsync("collector", handler: async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            Posts.Enqueue((context.Request.Path.Value ?? "", context.Request.ContentType ?? "", await reader.ReadToEndAsync(context.RequestAborted)));
            context.Response.StatusCode = 202;
        });
    }

    private static ProxyConfig Outbound(int backendPort, TelemetryConfig telemetry) => ConfigOf(
        [Configs.Outbound()],
        [Table("outbound",
            Host("reviews", ["reviews:9080"], Route("outbound|9080||reviews.default.svc.cluster.local")),
            Host("faulty", ["faulty:9080"], Route("outbound|9080||reviews.default.svc.cluster.local") with
            {
                Name = "faulty-route",
                Fault = new FaultPolicy { Abort = new FaultAbort { HttpStatus = 503 } },
            }))],
        [Cluster("outbound|9080||reviews.default.svc.cluster.local", backendPort)]) with { Telemetry = telemetry };

    private static ProxyConfig Inbound(int backendPort, TelemetryConfig telemetry) => ConfigOf(
        [Configs.Inbound("inbound|9080", "inbound|9080||")], [], [Cluster("inbound|9080||", backendPort)]) with { Telemetry = telemetry };

    private static TracingConfig Tracing(TracingProvider provider, int collectorPort, double sampling = 100) => new()
    {
        Provider = provider,
        Endpoint = provider == TracingProvider.Zipkin ? $"http://127.0.0.1:{collectorPort}/api/v2/spans" : $"http://127.0.0.1:{collectorPort}/v1/traces",
        SamplingPercentage = sampling,
        CanonicalService = "productpage",
        CanonicalRevision = "v1",
        MeshId = "cluster.local",
        CustomTags = System.Collections.Immutable.ImmutableSortedDictionary<string, string>.Empty.Add("team", "bowline"),
    };

    private static ProxyUnderTest TracingProxy(out Func<Tracer> tracer)
    {
        Tracer? made = null;
        tracer = () => made!;
        return new ProxyUnderTest(observers: snapshots => [made = new Tracer(snapshots, "productpage-v1-0.default", "default", new SpanExporter())]);
    }

    [Fact]
    public async Task Outbound_OtlpJson_ClientSpanUnderCallersContext_UpstreamSeesThisSpan()
    {
        var collector = new Collector();
        await using var collectorApp = await collector.StartAsync();
        await using var backend = await TestBackend.StartAsync("reviews");
        await using var proxy = TracingProxy(out var tracer);
        await using var exporter = tracer().Exporter;
        await proxy.ApplyAsync(Outbound(backend.Port, new TelemetryConfig { Tracing = Tracing(TracingProvider.OpenTelemetry, collectorApp.Port) }));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://reviews:9080/reviews/0");
        request.Headers.TryAddWithoutValidation("traceparent", $"00-{Trace}-{Parent}-01");
        request.Headers.TryAddWithoutValidation("x-request-id", "req-1");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = response.Headers.GetValues("x-seen-traceparent").Single();
        Assert.Matches($"^00-{Trace}-[0-9a-f]{{16}}-01$", seen);
        Assert.True(response.Headers.Contains("x-envoy-upstream-service-time"));

        await Polling.UntilAsync(() => !collector.Posts.IsEmpty);
        var (path, contentType, body) = Assert.Single(collector.Posts);
        Assert.Equal("/v1/traces", path);
        Assert.StartsWith("application/json", contentType, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(body);
        var resource = doc.RootElement.GetProperty("resourceSpans")[0];
        Assert.Equal("productpage.default", Attribute(resource.GetProperty("resource").GetProperty("attributes"), "service.name"));
        var span = resource.GetProperty("scopeSpans")[0].GetProperty("spans")[0];
        Assert.Equal(Trace, span.GetProperty("traceId").GetString());
        Assert.Equal(Parent, span.GetProperty("parentSpanId").GetString());
        Assert.Equal(seen.Split('-')[2], span.GetProperty("spanId").GetString());
        Assert.Equal(3, span.GetProperty("kind").GetInt32()); // CLIENT
        Assert.Equal("reviews.default.svc.cluster.local:9080/*", span.GetProperty("name").GetString());
        var attributes = span.GetProperty("attributes");
        Assert.Equal("200", Attribute(attributes, "http.status_code"));
        Assert.Equal("GET", Attribute(attributes, "http.method"));
        Assert.Equal("http://reviews:9080/reviews/0", Attribute(attributes, "http.url"));
        Assert.Equal("req-1", Attribute(attributes, "guid:x-request-id"));
        Assert.Equal("outbound|9080||reviews.default.svc.cluster.local", Attribute(attributes, "upstream_cluster"));
        Assert.Equal("proxy", Attribute(attributes, "component"));
        Assert.Equal("productpage-v1-0.default", Attribute(attributes, "node_id"));
        Assert.Equal("productpage", Attribute(attributes, "istio.canonical_service"));
        Assert.Equal("v1", Attribute(attributes, "istio.canonical_revision"));
        Assert.Equal("default", Attribute(attributes, "istio.namespace"));
        Assert.Equal("cluster.local", Attribute(attributes, "istio.mesh_id"));
        Assert.Equal("bowline", Attribute(attributes, "team"));
        Assert.Equal("7", Attribute(attributes, "response_size"));
        Assert.Null(Attribute(attributes, "error"));
        Assert.True(long.Parse(span.GetProperty("endTimeUnixNano").GetString()!) >= long.Parse(span.GetProperty("startTimeUnixNano").GetString()!));
    }

    [Fact]
    public async Task Inbound_Zipkin_ServerSpanWithErrorFor5xx_UnsampledCallerIsNotReported()
    {
        var collector = new Collector();
        await using var collectorApp = await collector.StartAsync();
        await using var backend = await TestBackend.StartAsync("ratings", handler: context =>
        {
            context.Response.StatusCode = 503;
            return Task.CompletedTask;
        });
        await using var proxy = TracingProxy(out var tracer);
        await using var exporter = tracer().Exporter;
        await proxy.ApplyAsync(Inbound(backend.Port, new TelemetryConfig { Tracing = Tracing(TracingProvider.Zipkin, collectorApp.Port) }));

        using var client = Clients.Direct();
        var url = proxy.ListenerUri("inbound|9080") + "ratings/0";
        // First a caller that decided not to sample (even at 100 %), then one that did: the queue is drained in order,
        // so when the second span has arrived the first would have too.
        using var unsampled = new HttpRequestMessage(HttpMethod.Get, url);
        unsampled.Headers.Host = "ratings:9080";
        unsampled.Headers.TryAddWithoutValidation("x-b3-traceid", "1111111111111111");
        unsampled.Headers.TryAddWithoutValidation("x-b3-spanid", "2222222222222222");
        unsampled.Headers.TryAddWithoutValidation("x-b3-sampled", "0");
        (await client.SendAsync(unsampled)).Dispose();
        using var sampled = new HttpRequestMessage(HttpMethod.Get, url);
        sampled.Headers.Host = "ratings:9080";
        sampled.Headers.TryAddWithoutValidation("b3", $"{Trace}-{Parent}-1");
        using var response = await client.SendAsync(sampled);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);

        await Polling.UntilAsync(() => !collector.Posts.IsEmpty);
        var (path, _, body) = Assert.Single(collector.Posts);
        Assert.Equal("/api/v2/spans", path);
        using var doc = JsonDocument.Parse(body);
        var span = Assert.Single(doc.RootElement.EnumerateArray().ToList());
        Assert.Equal(Trace, span.GetProperty("traceId").GetString());
        Assert.Equal(Parent, span.GetProperty("parentId").GetString());
        Assert.Equal("SERVER", span.GetProperty("kind").GetString());
        Assert.Equal("ratings.default.svc.cluster.local:9080/*", span.GetProperty("name").GetString());
        Assert.Equal("productpage.default", span.GetProperty("localEndpoint").GetProperty("serviceName").GetString());
        var tags = span.GetProperty("tags");
        Assert.Equal("true", tags.GetProperty("error").GetString());
        Assert.Equal("503", tags.GetProperty("http.status_code").GetString());
        Assert.Equal("inbound|9080||", tags.GetProperty("upstream_cluster").GetString());
        // Counted once the collector's answer is read, which may be just after the collector kept the body.
        await Polling.UntilAsync(() => exporter.Exported == 1);
        Assert.Equal(0, exporter.Failed + exporter.Dropped);
    }

    [Fact]
    public async Task NoTracingConfig_TraceHeadersPassThroughUntouched()
    {
        await using var backend = await TestBackend.StartAsync("reviews");
        await using var proxy = TracingProxy(out var tracer);
        await using var exporter = tracer().Exporter;
        await proxy.ApplyAsync(Outbound(backend.Port, new TelemetryConfig()));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://reviews:9080/");
        request.Headers.TryAddWithoutValidation("traceparent", $"00-{Trace}-{Parent}-01");
        using var response = await client.SendAsync(request);

        Assert.Equal($"00-{Trace}-{Parent}-01", response.Headers.GetValues("x-seen-traceparent").Single());
    }

    [Fact]
    public async Task AccessLog_Json_FieldsFor200AndFaultAndNoRoute()
    {
        var dir = Directory.CreateTempSubdirectory("bowline-accesslog-");
        try
        {
            var path = Path.Combine(dir.FullName, "access.log");
            await using var backend = await TestBackend.StartAsync("reviews");
            AccessLogObserver? log = null;
            await using (var proxy = new ProxyUnderTest(observers: snapshots => [log = new AccessLogObserver(snapshots)]))
            {
                await proxy.ApplyAsync(Outbound(backend.Port, new TelemetryConfig { AccessLog = new AccessLogConfig { Path = path, Encoding = LogEncoding.Json } }));
                using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
                foreach (var url in new[] { "http://reviews:9080/reviews/0?x=1", "http://faulty:9080/boom", "http://nowhere:9080/none" })
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, url);
                    request.Headers.TryAddWithoutValidation("user-agent", "bowline-test");
                    (await client.SendAsync(request)).Dispose();
                }

                await Polling.UntilAsync(() => log!.Written == 3);
                Assert.Equal(0, log!.Dropped);
                await log.DisposeAsync();
            }

            var lines = File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.Equal(3, lines.Count);
            var ok = lines[0];
            Assert.Equal("GET", ok.GetProperty("method").GetString());
            Assert.Equal("/reviews/0?x=1", ok.GetProperty("path").GetString());
            Assert.Equal("HTTP/1.1", ok.GetProperty("protocol").GetString());
            Assert.Equal(200, ok.GetProperty("response_code").GetInt32());
            Assert.Equal("-", ok.GetProperty("response_flags").GetString());
            Assert.Equal("via_upstream", ok.GetProperty("response_code_details").GetString());
            Assert.Equal(7, ok.GetProperty("bytes_sent").GetInt64()); // "reviews"
            Assert.Equal(0, ok.GetProperty("bytes_received").GetInt64());
            Assert.Equal("reviews:9080", ok.GetProperty("authority").GetString());
            Assert.Equal("bowline-test", ok.GetProperty("user_agent").GetString());
            Assert.Matches("^[0-9a-f-]{36}$", ok.GetProperty("request_id").GetString()!);
            Assert.Equal($"127.0.0.1:{backend.Port}", ok.GetProperty("upstream_host").GetString());
            Assert.Equal("outbound|9080||reviews.default.svc.cluster.local", ok.GetProperty("upstream_cluster").GetString());
            Assert.Equal("to-outbound|9080||reviews.default.svc.cluster.local", ok.GetProperty("route_name").GetString());
            Assert.True(long.TryParse(ok.GetProperty("upstream_service_time").GetString(), out _));
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", ok.GetProperty("start_time").GetString()!);
            Assert.StartsWith("127.0.0.1:", ok.GetProperty("downstream_remote_address").GetString(), StringComparison.Ordinal);

            var fault = lines[1];
            Assert.Equal(503, fault.GetProperty("response_code").GetInt32());
            Assert.Equal("FI", fault.GetProperty("response_flags").GetString());
            Assert.Equal("fault_filter_abort", fault.GetProperty("response_code_details").GetString());
            Assert.Equal("faulty-route", fault.GetProperty("route_name").GetString());
            Assert.Equal(JsonValueKind.Null, fault.GetProperty("upstream_host").ValueKind);
            Assert.Equal(JsonValueKind.Null, fault.GetProperty("upstream_service_time").ValueKind);

            var noRoute = lines[2];
            Assert.Equal(404, noRoute.GetProperty("response_code").GetInt32());
            Assert.Equal("NR", noRoute.GetProperty("response_flags").GetString());
            Assert.Equal("route_not_found", noRoute.GetProperty("response_code_details").GetString());
            Assert.Equal(JsonValueKind.Null, noRoute.GetProperty("upstream_cluster").ValueKind);
            Assert.Equal(JsonValueKind.Null, noRoute.GetProperty("route_name").ValueKind);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task AccessLog_WriterStuck_RequestsNeverBlock_OverflowIsDroppedAndCounted()
    {
        var dir = Directory.CreateTempSubdirectory("bowline-accesslog-");
        try
        {
            // A FIFO nobody reads: the writer's open blocks, so it drains nothing — a disk that stopped.
            var fifo = Path.Combine(dir.FullName, "stuck.log");
            using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", fifo))
            {
                await mkfifo.WaitForExitAsync();
                Assert.Equal(0, mkfifo.ExitCode);
            }

            var writer = new AccessLogWriter(fifo);
            for (var i = 0; i < AccessLogWriter.Capacity * 3; i++)
            {
                writer.Enqueue("line\n");
            }

            Assert.Equal(AccessLogWriter.Capacity * 2, writer.Dropped);
            Assert.Equal(0, writer.Written);

            // A reader unblocks the writer, which then writes what the queue kept.
            var read = Task.Run(() => File.ReadAllText(fifo));
            await writer.DisposeAsync();
            Assert.Equal(AccessLogWriter.Capacity, writer.Written);
            Assert.Equal(AccessLogWriter.Capacity * "line\n".Length, (await read).Length);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task AccessLog_TwoWritersOneFile_AppendAfterEachOther()
    {
        var dir = Directory.CreateTempSubdirectory("bowline-accesslog-");
        try
        {
            var path = Path.Combine(dir.FullName, "shared.log");
            await File.WriteAllTextAsync(path, "existing\n");
            var first = new AccessLogWriter(path);
            var second = new AccessLogWriter(path);
            first.Enqueue("a\n");
            await Polling.UntilAsync(() => first.Written == 1);
            second.Enqueue("b\n");
            await Polling.UntilAsync(() => second.Written == 1);
            first.Enqueue("c\n");
            await first.DisposeAsync();
            await second.DisposeAsync();

            // Each batch lands at the end of the file as it is then, as two proxies on one machine need.
            Assert.Equal("existing\na\nb\nc\n", await File.ReadAllTextAsync(path));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task BadAccessLogFormat_IsNacked()
    {
        await using var proxy = new ProxyUnderTest();
        var error = await proxy.Manager.ApplyAsync("v1", Inbound(1, new TelemetryConfig
        {
            AccessLog = new AccessLogConfig { Path = "/dev/stdout", Format = "%NOPE%" },
        }), CancellationToken.None);

        Assert.Equal("access log format: command operator %NOPE% is not supported by Bowline", error);
    }

    private static string? Attribute(JsonElement attributes, string key) =>
        attributes.EnumerateArray().Where(a => a.GetProperty("key").GetString() == key)
            .Select(a => a.GetProperty("value").GetProperty("stringValue").GetString()).FirstOrDefault();
}
