using Bowline.Proxy.Telemetry.AccessLog;
using Bowline.Proxy.Telemetry.Tracing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Bowline.Proxy.Telemetry;

/// <summary>Admin GET /telemetry_stats: what the access log and the span exporter wrote, dropped and failed to send.</summary>
internal static class TelemetryEndpoints
{
    public static void MapTelemetryStats(this IEndpointRouteBuilder endpoints, AccessLogObserver accessLog, Tracer tracer)
    {
        endpoints.MapGet("/telemetry_stats", () =>
        {
            var e = tracer.Exporter;
            var ic = System.Globalization.CultureInfo.InvariantCulture;
            return Results.Text(string.Create(ic,
                $"{{\"accessLog\":{{\"written\":{accessLog.Written},\"dropped\":{accessLog.Dropped}}},\"tracing\":{{\"exported\":{e.Exported},\"dropped\":{e.Dropped},\"failed\":{e.Failed}}}}}"),
                "application/json");
        });
    }
}
