using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Bowline.EndToEnd.Tests.Infrastructure;

/// <summary>One span as an OTLP/HTTP JSON export carried it.</summary>
internal sealed record CollectedSpan(string Service, string TraceId, string SpanId, string? ParentSpanId, string Name, int Kind, IReadOnlyDictionary<string, string> Attributes);

/// <summary>An OTLP/HTTP collector on a free loopback port (POST /v1/traces, JSON), keeping every span it receives.</summary>
internal sealed class SpanCollector : IAsyncDisposable
{
    private readonly WebApplication _app;

    private SpanCollector(WebApplication app) => _app = app;

    public ConcurrentQueue<CollectedSpan> Spans { get; } = new();
    public int Port { get; private set; }

    public static async Task<SpanCollector> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var collector = new SpanCollector(app);
        app.MapPost("/v1/traces", async (HttpContext context) =>
        {
            using var doc = await JsonDocument.ParseAsync(context.Request.Body);
            foreach (var resource in doc.RootElement.GetProperty("resourceSpans").EnumerateArray())
            {
                var service = Attributes(resource.GetProperty("resource").GetProperty("attributes"))["service.name"];
                foreach (var scope in resource.GetProperty("scopeSpans").EnumerateArray())
                {
                    foreach (var s in scope.GetProperty("spans").EnumerateArray())
                    {
                        collector.Spans.Enqueue(new CollectedSpan(
                            service,
                            s.GetProperty("traceId").GetString()!,
                            s.GetProperty("spanId").GetString()!,
                            s.TryGetProperty("parentSpanId", out var p) ? p.GetString() : null,
                            s.GetProperty("name").GetString()!,
                            s.GetProperty("kind").GetInt32(),
                            Attributes(s.GetProperty("attributes"))));
                    }
                }
            }

            return Results.Ok();
        });
        await app.StartAsync();
        collector.Port = new Uri(app.Urls.First()).Port;
        return collector;
    }

    private static Dictionary<string, string> Attributes(JsonElement list) =>
        list.EnumerateArray().ToDictionary(a => a.GetProperty("key").GetString()!, a => a.GetProperty("value").GetProperty("stringValue").GetString()!);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
