using System.Text.Json;
using Bowline.Api.Xds;
using Bowline.Proxy.Config;
using Bowline.Proxy.Pipeline;
using Bowline.Proxy.RateLimit;
using Bowline.Proxy.Telemetry.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Bowline.Proxy.Admin;

/// <summary>The admin endpoint (docs/contracts.md): readiness for <c>bowline up</c>, the config in use for debugging.</summary>
internal static class AdminEndpoints
{
    public static void MapAdmin(this IEndpointRouteBuilder endpoints, ISnapshotSource snapshots, EgressStats? egress = null, RateLimitBuckets? rateLimits = null,
        ProxyMetrics? metrics = null)
    {
        if (metrics is not null)
        {
            // Envoy's path, which Istio's Prometheus scrape config uses (prometheus.io/path: /stats/prometheus).
            endpoints.MapGet("/stats/prometheus", () => Results.Text(metrics.Render(), PrometheusText.ContentType));
        }

        if (egress is not null)
        {
            // Counters of traffic outside the registry (outboundTrafficPolicy); the metrics exposition reads the same object.
            endpoints.MapGet("/stats/egress", () => Results.Text(
                $"{{\"blackHole\":{egress.BlackHole},\"passthrough\":{egress.Passthrough}}}", "application/json"));
        }

        // Envoy's http_local_rate_limit counters per bucket (ok / rate_limited), as JSON.
        endpoints.MapGet("/stats/local_ratelimit", () => Results.Json(
            (rateLimits?.All() ?? []).Select(b => new RateLimitCounters(b.Scope, b.Bucket.Name, b.Bucket.Allowed, b.Bucket.Limited)).ToArray(),
            AdminJson.Default.RateLimitCountersArray));

        endpoints.MapGet("/healthz", () => Results.Text("OK"));

        // A snapshot exists only once a config was applied with all its listeners bound.
        endpoints.MapGet("/ready", () => snapshots.Current is null
            ? Results.Text("NOT READY", statusCode: StatusCodes.Status503ServiceUnavailable)
            : Results.Text("LIVE"));

        endpoints.MapGet("/config_dump", async context =>
        {
            var snapshot = snapshots.Current;
            context.Response.ContentType = "application/json";
            await using var writer = new Utf8JsonWriter(context.Response.BodyWriter, new JsonWriterOptions { Indented = true });
            writer.WriteStartObject();
            if (snapshot is null)
            {
                writer.WriteNull("version");
                writer.WriteNull("config");
            }
            else
            {
                writer.WriteString("version", snapshot.Version);
                writer.WritePropertyName("config");
                JsonSerializer.Serialize(writer, Redaction.WithoutSecrets(snapshot.Config), XdsJson.Default.ProxyConfig);
                writer.WriteStartObject("bound");
                foreach (var (name, endpoint) in snapshot.BoundEndpoints)
                {
                    writer.WriteString(name, endpoint.ToString());
                }

                writer.WriteEndObject();
            }

            writer.WriteEndObject();
            await writer.FlushAsync(context.RequestAborted);
        });
    }
}
