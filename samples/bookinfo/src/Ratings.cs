using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Bookinfo;

/// <summary>
/// ratings: stars per reviewer (Istio's ratings v1, in memory). Like Istio's, SERVICE_VERSION can make it misbehave
/// for resilience demos: "v-faulty" answers 503 half the time, "v-delayed" waits 7 s half the time,
/// "v-unavailable"/"v-unhealthy" always answer 503.
/// </summary>
internal static class Ratings
{
    private static readonly ConcurrentDictionary<int, JsonNode> UserAddedRatings = new();

    public static void Map(WebApplication app)
    {
        var version = Environment.GetEnvironmentVariable("SERVICE_VERSION") ?? "v1";

        app.MapGet("/health", () => Results.Json(new JsonObject { ["status"] = "Ratings is healthy" }));

        app.MapGet("/ratings/{id}", async (string id, CancellationToken aborted) =>
        {
            if (!int.TryParse(id, out var productId))
            {
                return Error(400, "please provide numeric product ID");
            }
            switch (version)
            {
                case "v-faulty" when Random.Shared.NextDouble() < 0.5:
                case "v-unavailable" or "v-unhealthy":
                    return Error(503, "Service unavailable");
                case "v-delayed" when Random.Shared.NextDouble() < 0.5:
                    await Task.Delay(TimeSpan.FromSeconds(7), aborted);
                    break;
            }
            return Results.Json(LocalRatings(productId));
        });

        app.MapPost("/ratings/{id}", async (string id, HttpRequest request) =>
        {
            if (!int.TryParse(id, out var productId))
            {
                return Error(400, "please provide numeric product ID");
            }
            JsonNode? ratings;
            try
            {
                ratings = await JsonNode.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
            }
            catch (JsonException)
            {
                ratings = null;
            }
            if (ratings is not JsonObject)
            {
                return Error(400, "please provide valid ratings JSON");
            }
            UserAddedRatings[productId] = ratings;
            return Results.Json(LocalRatings(productId));
        });
    }

    private static JsonObject LocalRatings(int productId) => new()
    {
        ["id"] = productId,
        ["ratings"] = UserAddedRatings.TryGetValue(productId, out var added)
            ? added.DeepClone()
            : new JsonObject { ["Reviewer1"] = 5, ["Reviewer2"] = 4 },
    };

    private static IResult Error(int status, string message) =>
        Results.Json(new JsonObject { ["error"] = message }, statusCode: status);
}
