using System.Net;
using System.Text;
using Bowline.Api.Xds;
using Bowline.Proxy.Telemetry.Metrics;
using Bowline.Proxy.Tests.Infrastructure;

namespace Bowline.Proxy.Tests.Metrics;

/// <summary>Istio's standard labels and values, as two real proxies report one request from both sides.</summary>
public sealed class MetricsLabelTests
{
    private static async Task<HttpStatusCode> GetAsync(MetricsMesh mesh, string testId, HttpContent? body = null, string? contentType = null)
    {
        using var client = Clients.ViaProxy(mesh.Caller.ListenerUri("outbound"));
        using var request = new HttpRequestMessage(body is null ? HttpMethod.Get : HttpMethod.Post, "http://reviews:9080/reviews/0") { Content = body };
        request.Headers.Add("x-test-id", testId);
        if (contentType is not null && body is not null)
        {
            body.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
        }

        using var response = await client.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        return response.StatusCode;
    }

    [Fact]
    public async Task OneRequest_IsReportedBySourceAndDestination_WithIstiosLabels()
    {
        await using var mesh = await MetricsMesh.StartAsync();
        Assert.Equal(HttpStatusCode.OK, await GetAsync(mesh, "one"));

        var source = await MetricsMesh.SampleAsync(mesh.Caller, "istio_requests_total", "reporter=\"source\"");
        foreach (var label in (string[])[
            "source_workload=\"productpage-v1\"", "source_workload_namespace=\"default\"", "source_principal=\"unknown\"",
            "source_app=\"productpage\"", "source_version=\"v1\"", "source_cluster=\"Kubernetes\"",
            "source_canonical_service=\"productpage\"", "source_canonical_revision=\"v1\"",
            "destination_workload=\"reviews-v1\"", "destination_workload_namespace=\"default\"", "destination_principal=\"unknown\"",
            "destination_app=\"reviews\"", "destination_version=\"v1\"", "destination_service=\"reviews.default.svc.cluster.local\"",
            "destination_service_name=\"reviews\"", "destination_service_namespace=\"default\"", "destination_cluster=\"Kubernetes\"",
            "destination_canonical_service=\"reviews\"", "destination_canonical_revision=\"v1\"",
            "request_protocol=\"http\"", "response_code=\"200\"", "grpc_response_status=\"\"", "response_flags=\"-\"",
            "connection_security_policy=\"unknown\""])
        {
            Assert.Contains(label, source);
        }

        Assert.Equal(1, MetricsMesh.Value(source));

        // The callee learned who called from the peer-metadata header.
        var destination = await MetricsMesh.SampleAsync(mesh.Callee, "istio_requests_total", "reporter=\"destination\"");
        foreach (var label in (string[])[
            "source_workload=\"productpage-v1\"", "source_app=\"productpage\"", "source_canonical_revision=\"v1\"",
            "destination_workload=\"reviews-v1\"", "destination_service=\"reviews.default.svc.cluster.local\"",
            "destination_service_name=\"reviews\"", "response_code=\"200\"", "response_flags=\"-\"",
            "connection_security_policy=\"none\"", "source_principal=\"unknown\""])
        {
            Assert.Contains(label, destination);
        }

        // ... and consumed it: the app never sees the exchange headers.
        var seen = mesh.AppSaw("one");
        Assert.NotNull(seen);
        Assert.False(seen.ContainsKey(PeerMetadata.Header));
        Assert.False(seen.ContainsKey(PeerMetadata.IdHeader));
    }

    [Fact]
    public async Task RequestWithoutPeerMetadata_HasUnknownSource_AndAppCannotSpoofIt()
    {
        await using var mesh = await MetricsMesh.StartAsync();
        using var direct = Clients.Direct();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{mesh.Callee.ListenerEndpoint("inbound|9080")}/reviews/0");
        request.Headers.Add("x-test-id", "direct");
        using (var response = await direct.SendAsync(request))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var line = await MetricsMesh.SampleAsync(mesh.Callee, "istio_requests_total", "reporter=\"destination\"");
        Assert.Contains("source_workload=\"unknown\"", line);
        Assert.Contains("source_workload_namespace=\"unknown\"", line);
        Assert.Contains("source_canonical_service=\"unknown\"", line);
        Assert.Contains("destination_workload=\"reviews-v1\"", line);

        // An app that sends its own peer metadata through its sidecar is ignored: the sidecar sends its own.
        using var client = Clients.ViaProxy(mesh.Caller.ListenerUri("outbound"));
        using var spoof = new HttpRequestMessage(HttpMethod.Get, "http://reviews:9080/");
        spoof.Headers.Add("x-test-id", "spoof");
        spoof.Headers.Add(PeerMetadata.Header, PeerMetadata.Encode(new WorkloadMetadata { Name = "evil" }));
        using (var response = await client.SendAsync(spoof))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await MetricsMesh.SampleAsync(mesh.Callee, "istio_requests_total", "source_workload=\"productpage-v1\"");
        Assert.DoesNotContain("evil", mesh.Callee.Metrics.Render());
    }

    [Fact]
    public async Task FaultAbort_IsReportedBySource_As500FI_WithTheRoutesService()
    {
        await using var mesh = await MetricsMesh.StartAsync(r => r with
        {
            Fault = new FaultPolicy { Abort = new FaultAbort { HttpStatus = 500 } },
        });
        Assert.Equal(HttpStatusCode.InternalServerError, await GetAsync(mesh, "fi"));

        var line = await MetricsMesh.SampleAsync(mesh.Caller, "istio_requests_total", "response_code=\"500\"");
        Assert.Contains("response_flags=\"FI\"", line);
        Assert.Contains("reporter=\"source\"", line);
        Assert.Contains("destination_service=\"reviews.default.svc.cluster.local\"", line);
        Assert.Contains("destination_workload=\"unknown\"", line); // no endpoint was picked
        Assert.DoesNotContain("istio_requests_total{", mesh.Callee.Metrics.Render()); // it never reached the callee
    }

    [Fact]
    public async Task GrpcAbort_ReportsGrpcProtocolAndStatus()
    {
        await using var mesh = await MetricsMesh.StartAsync(r => r with
        {
            Fault = new FaultPolicy { Abort = new FaultAbort { GrpcStatus = 14 } },
        });
        // A gRPC frame: not compressed, 3 bytes of payload.
        Assert.Equal(HttpStatusCode.OK, await GetAsync(mesh, "grpc", new ByteArrayContent([0, 0, 0, 0, 3, 1, 2, 3]), "application/grpc"));

        var line = await MetricsMesh.SampleAsync(mesh.Caller, "istio_requests_total", "request_protocol=\"grpc\"");
        Assert.Contains("grpc_response_status=\"14\"", line);
        Assert.Contains("response_code=\"200\"", line);
        Assert.Contains("response_flags=\"FI\"", line);
        Assert.Contains("istio_request_messages_total{", mesh.Caller.Metrics.Render());
    }

    [Fact]
    public async Task GrpcCall_ThroughBothProxies_CountsMessagesAndReportsTheTrailerStatus()
    {
        await using var mesh = await MetricsMesh.StartAsync(grpc: true);
        using var client = Clients.Direct(HttpVersion.Version20);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(mesh.Caller.ListenerUri("outbound"), "/reviews.Reviews/Get"))
        {
            // Three request messages of 1, 0 and 2 bytes.
            Content = new ByteArrayContent([0, 0, 0, 0, 1, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 7, 7]),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.Host = "reviews:9080";
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
        using var response = await client.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.TrailingHeaders.TryGetValues("grpc-status", out var status), $"{(int)response.StatusCode} {response.Version} {response.Content.Headers.ContentType} {string.Join(",", response.Headers.Select(h => h.Key))}");
        Assert.Equal("5", status.Single());

        foreach (var (proxy, reporter) in ((ProxyUnderTest, string)[])[(mesh.Caller, "source"), (mesh.Callee, "destination")])
        {
            var line = await MetricsMesh.SampleAsync(proxy, "istio_requests_total", $"reporter=\"{reporter}\"");
            Assert.Contains("request_protocol=\"grpc\"", line);
            Assert.Contains("response_code=\"200\"", line);
            Assert.Contains("grpc_response_status=\"5\"", line);
            var text = proxy.Metrics.Render();
            Assert.Equal(3, MetricsMesh.Value(MetricsMesh.Lines(text, "istio_request_messages_total").Single()));
            Assert.Equal(2, MetricsMesh.Value(MetricsMesh.Lines(text, "istio_response_messages_total").Single()));
        }

        Assert.Contains("source_workload=\"productpage-v1\"", await MetricsMesh.SampleAsync(mesh.Callee, "istio_requests_total", "grpc"));
    }

    [Fact]
    public async Task NoRoute_HasFlagNR_AndUnknownDestination()
    {
        await using var mesh = await MetricsMesh.StartAsync(r => r with
        {
            Matches = [new RouteMatch { Uri = Configs.Exact("/only-this") }],
        });
        Assert.Equal(HttpStatusCode.NotFound, await GetAsync(mesh, "nr"));

        var line = await MetricsMesh.SampleAsync(mesh.Caller, "istio_requests_total", "response_code=\"404\"");
        Assert.Contains("response_flags=\"NR\"", line);
        Assert.Contains("destination_service=\"unknown\"", line);
        Assert.Contains("destination_workload=\"unknown\"", line);
    }

    [Fact]
    public async Task BodySizesAndDurations_FillTheHistograms()
    {
        await using var mesh = await MetricsMesh.StartAsync();
        Assert.Equal(HttpStatusCode.OK, await GetAsync(mesh, "body", new ByteArrayContent(new byte[1234])));

        var exposition = await RenderedWithAsync(mesh.Callee, "istio_request_bytes_sum");
        var requestBytes = MetricsMesh.Lines(exposition, "istio_request_bytes_sum").Single();
        Assert.Equal(1234, MetricsMesh.Value(requestBytes));
        // "reviews!" is 8 bytes; the app answers chunked, so the proxy counted them while streaming.
        Assert.Equal(8, MetricsMesh.Value(MetricsMesh.Lines(exposition, "istio_response_bytes_sum").Single()));
        Assert.Contains("istio_request_bytes_bucket{", exposition);
        Assert.Contains("le=\"10000\"} 1", MetricsMesh.Lines(exposition, "istio_request_bytes_bucket").Single(l => l.Contains("le=\"10000\"", StringComparison.Ordinal)));
        Assert.Contains("le=\"1000\"} 0", MetricsMesh.Lines(exposition, "istio_request_bytes_bucket").Single(l => l.Contains("le=\"1000\"", StringComparison.Ordinal)));

        var buckets = MetricsMesh.Lines(exposition, "istio_request_duration_milliseconds_bucket").Select(l => l[(l.IndexOf("le=\"", StringComparison.Ordinal) + 4)..l.LastIndexOf('"')]).ToArray();
        Assert.Equal(["0.5", "1", "5", "10", "25", "50", "100", "250", "500", "1000", "2500", "5000", "10000", "30000", "60000", "300000", "600000", "1800000", "3600000", "+Inf"], buckets);
        Assert.Equal(1, MetricsMesh.Value(MetricsMesh.Lines(exposition, "istio_request_duration_milliseconds_count").Single()));
    }

    [Fact]
    public async Task ProxyHealth_CountsConnectionsAndConfigs()
    {
        await using var mesh = await MetricsMesh.StartAsync();
        Assert.Equal(HttpStatusCode.OK, await GetAsync(mesh, "health"));

        var text = await RenderedWithAsync(mesh.Callee, "envoy_listener_downstream_cx_total{");
        Assert.Equal(1, MetricsMesh.Value(MetricsMesh.Lines(text, "envoy_listener_downstream_cx_total").Single(l => l.Contains("listener_name=\"inbound|9080\"", StringComparison.Ordinal))));
        Assert.Equal(1, MetricsMesh.Value(MetricsMesh.Lines(text, "envoy_listener_manager_lds_update_success").Single()));
        Assert.Contains("bowline_proxy_config_info{version=\"v1\"} 1", text);
        Assert.Contains("envoy_listener_manager_lds_update_time ", text);

        var error = await mesh.Callee.Manager.ApplyAsync("bad", new ProxyConfig { Listeners = [Configs.Inbound("x", "missing")] }, CancellationToken.None);
        Assert.NotNull(error);
        Assert.Equal(1, MetricsMesh.Value(MetricsMesh.Lines(mesh.Callee.Metrics.Render(), "envoy_listener_manager_lds_update_rejected").Single()));
        Assert.Contains("envoy_cluster_upstream_rq_retry{cluster_name=\"inbound|9080||\"} 0", text);
    }

    [Fact]
    public void GrpcFrames_CountMessagesAcrossReads()
    {
        var frames = new Forwarding.BodyCounter.GrpcFrames();
        byte[] body = [0, 0, 0, 0, 2, 9, 9, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 7];
        // Split at every place, including inside a prefix.
        for (var cut = 0; cut <= body.Length; cut++)
        {
            frames = new Forwarding.BodyCounter.GrpcFrames();
            frames.Scan(body.AsSpan(0, cut));
            frames.Scan(body.AsSpan(cut));
            Assert.Equal(3, frames.Messages);
        }
    }

    [Fact]
    public void PeerMetadata_RoundTrips()
    {
        var w = MetricsMesh.Productpage with { Version = "v1;odd=value" };
        Assert.Equal(w, PeerMetadata.Decode(PeerMetadata.Encode(w)));
        Assert.Null(PeerMetadata.Decode("garbage"));
    }

    private static async Task<string> RenderedWithAsync(ProxyUnderTest proxy, string text)
    {
        string rendered = "";
        await Polling.UntilAsync(() => (rendered = proxy.Metrics.Render()).Contains(text, StringComparison.Ordinal));
        return rendered;
    }
}
