using System.Globalization;
using System.Text.Encodings.Web;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Httpbin;

/// <summary>
/// httpbin's endpoints with httpbin's JSON shapes (https://httpbin.org), plus two Bowline-sample extensions for tests:
/// <c>/cycle/{codes}</c> (answers the codes in turn, per pod: a deterministic flaky upstream) and <c>/stats</c>
/// (what reached this pod, including mirrored copies).
/// </summary>
internal static class Endpoints
{
    private const int MaxDelaySeconds = 10;
    private const int MaxStreamLines = 100;
    private const int MaxBytes = 100 * 1024;
    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        // httpbin prints quotes and non-ASCII text as they are, not as \u escapes.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Map(WebApplication app, PodInfo pod)
    {
        app.Use(async (context, next) =>
        {
            pod.Count(context.Request);
            // Which pod answered, for load-balancing and consistent-hash checks.
            context.Response.Headers["x-httpbin-pod"] = pod.Name;
            await next(context);
        });

        app.MapGet("/", () => Results.Text("httpbin (Bowline sample): /get /anything /headers /ip /user-agent /uuid /status/{codes} /delay/{s} /stream/{n} /bytes/{n} /response-headers /cycle/{codes} /stats\n"));
        app.MapGet("/get", (HttpRequest r) => Json(Request(r, withBody: false)));
        app.Map("/anything/{**rest}", async (HttpRequest r) => Json(await RequestWithBodyAsync(r)));
        app.MapGet("/headers", (HttpRequest r) => Json(new JsonObject { ["headers"] = Headers(r) }));
        app.MapGet("/ip", (HttpRequest r) => Json(new JsonObject { ["origin"] = Origin(r) }));
        app.MapGet("/user-agent", (HttpRequest r) => Json(new JsonObject { ["user-agent"] = r.Headers.UserAgent.ToString() }));
        app.MapGet("/uuid", () => Json(new JsonObject { ["uuid"] = Guid.NewGuid().ToString() }));
        app.Map("/status/{codes}", (string codes) => Status(codes, list => list[Random.Shared.Next(list.Count)]));
        app.Map("/cycle/{codes}", (string codes) =>
            Status(codes, list => list[(int)(pod.NextCycle(codes) % list.Count)]));
        app.Map("/delay/{seconds}", DelayAsync);
        app.MapGet("/stream/{n:int}", StreamAsync);
        app.MapGet("/bytes/{n:int}", (int n, int? seed) => Bytes(n, seed));
        app.Map("/response-headers", ResponseHeaders);
        app.MapGet("/stats", () => Json(new JsonObject
        {
            ["pod"] = pod.Name,
            ["version"] = pod.Version,
            ["requests"] = pod.Requests,
            ["shadowRequests"] = pod.ShadowRequests,
        }));
    }

    /// <summary>One code, or a comma-separated list to pick from (httpbin picks at random).</summary>
    private static IResult Status(string codes, Func<IReadOnlyList<int>, int> pick)
    {
        var list = new List<int>();
        foreach (var part in codes.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var code) || code is < 100 or > 599)
            {
                return Results.Text("Invalid status code", statusCode: 400);
            }

            list.Add(code);
        }

        return Results.StatusCode(pick(list));
    }

    private static async Task<IResult> DelayAsync(string seconds, HttpRequest r)
    {
        if (!double.TryParse(seconds, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0 || double.IsNaN(value))
        {
            return Results.Text("Invalid delay", statusCode: 400);
        }

        await Task.Delay(TimeSpan.FromSeconds(Math.Min(value, MaxDelaySeconds)), r.HttpContext.RequestAborted);
        return Json(await RequestWithBodyAsync(r));
    }

    /// <summary>n JSON lines (at most 100), each flushed as it is written, as httpbin streams them.</summary>
    private static async Task StreamAsync(int n, HttpContext context)
    {
        var response = context.Response;
        response.ContentType = "application/json";
        var line = Request(context.Request, withBody: false);
        for (var i = 0; i < Math.Clamp(n, 0, MaxStreamLines); i++)
        {
            line["id"] = i;
            await response.WriteAsync(line.ToJsonString(Compact) + "\n", context.RequestAborted);
            await response.Body.FlushAsync(context.RequestAborted);
        }
    }

    private static IResult Bytes(int n, int? seed)
    {
        var bytes = new byte[Math.Clamp(n, 0, MaxBytes)];
        (seed is { } s ? new Random(s) : Random.Shared).NextBytes(bytes);
        return Results.Bytes(bytes, "application/octet-stream");
    }

    /// <summary>Every query parameter becomes a response header; the body lists them (and the content headers).</summary>
    private static IResult ResponseHeaders(HttpContext context)
    {
        var body = new JsonObject { ["Content-Type"] = "application/json" };
        foreach (var (key, values) in context.Request.Query)
        {
            context.Response.Headers.Append(key, values);
            body[key] = values.Count == 1 ? values[0] : new JsonArray([.. values.Select(v => (JsonNode?)v)]);
        }

        return Json(body);
    }

    private static JsonObject Request(HttpRequest r, bool withBody)
    {
        var result = new JsonObject
        {
            ["args"] = Args(r),
            ["headers"] = Headers(r),
            ["origin"] = Origin(r),
            ["url"] = $"{r.Scheme}://{r.Host}{r.PathBase}{r.Path}{r.QueryString}",
        };
        if (withBody)
        {
            result["data"] = "";
            result["files"] = new JsonObject();
            result["form"] = new JsonObject();
            result["json"] = null;
            result["method"] = r.Method;
        }

        return result;
    }

    private static async Task<JsonObject> RequestWithBodyAsync(HttpRequest r)
    {
        var result = Request(r, withBody: true);
        if (r.HasFormContentType)
        {
            var form = await r.ReadFormAsync(r.HttpContext.RequestAborted);
            result["form"] = new JsonObject([.. form.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value.ToString()))]);
            return result;
        }

        using var reader = new StreamReader(r.Body, Encoding.UTF8);
        var data = await reader.ReadToEndAsync(r.HttpContext.RequestAborted);
        result["data"] = data;
        try
        {
            result["json"] = data.Length == 0 ? null : JsonNode.Parse(data);
        }
        catch (JsonException)
        {
            // Not JSON: httpbin answers json: null and keeps the text in data.
        }

        return result;
    }

    private static JsonObject Args(HttpRequest r) =>
        new([.. r.Query.Select(kv => KeyValuePair.Create(kv.Key,
            kv.Value.Count == 1 ? (JsonNode?)kv.Value[0] : new JsonArray([.. kv.Value.Select(v => (JsonNode?)v)])))]);

    /// <summary>Header names as httpbin prints them: Title-Case per dash-separated word.</summary>
    private static JsonObject Headers(HttpRequest r)
    {
        var headers = new JsonObject();
        foreach (var (name, values) in r.Headers.OrderBy(h => h.Key, StringComparer.OrdinalIgnoreCase))
        {
            headers[TitleCase(name)] = values.ToString();
        }

        return headers;
    }

    private static string TitleCase(string name) =>
        string.Join('-', name.Split('-').Select(w => w.Length == 0 ? w : char.ToUpperInvariant(w[0]) + w[1..].ToLowerInvariant()));

    /// <summary>The client address, or the first X-Forwarded-For entry when a proxy set one.</summary>
    private static string Origin(HttpRequest r) =>
        r.Headers["x-forwarded-for"].ToString() is { Length: > 0 } forwarded
            ? forwarded.Split(',')[0].Trim()
            : r.HttpContext.Connection.RemoteIpAddress?.ToString() ?? "";

    private static IResult Json(JsonNode body) => Results.Text(body.ToJsonString(Indented) + "\n", "application/json");
}
