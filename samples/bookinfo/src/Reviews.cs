using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Bookinfo;

/// <summary>
/// reviews: two reviews of the book (Istio's reviews v1/v2/v3, chosen by environment):
/// SERVICE_VERSION (v1, v2, v3) is reported in the answer; ENABLE_RATINGS=true makes it call ratings;
/// STAR_COLOR (black for v2, red for v3) colours the stars. As in Istio, black-star reviews wait 10 s for ratings,
/// other colours 2.5 s.
/// </summary>
internal static class Reviews
{
    private const string Reviewer1Text =
        "An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!";
    private const string Reviewer2Text =
        "Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.";

    public static void Map(WebApplication app)
    {
        var version = Environment.GetEnvironmentVariable("SERVICE_VERSION") is { Length: > 0 } v ? v : "v1";
        var ratingsEnabled = string.Equals(Environment.GetEnvironmentVariable("ENABLE_RATINGS"), "true",
            StringComparison.OrdinalIgnoreCase);
        var starColor = Environment.GetEnvironmentVariable("STAR_COLOR") is { Length: > 0 } c ? c : "black";
        var ratingsTimeout = starColor == "black" ? TimeSpan.FromSeconds(10) : TimeSpan.FromSeconds(2.5);
        var podName = Environment.GetEnvironmentVariable("POD_NAME") ?? Environment.GetEnvironmentVariable("HOSTNAME");
        var clusterName = Environment.GetEnvironmentVariable("CLUSTER_NAME");
        var ratingsUrl = Outgoing.ServiceUrl("ratings") + "/ratings/";
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("reviews");

        app.MapGet("/health", () => Results.Json(new JsonObject { ["status"] = "Reviews is healthy" }));

        app.MapGet("/reviews/{id:int}", async (int id, HttpRequest request) =>
        {
            int? stars1 = null, stars2 = null;
            if (ratingsEnabled)
            {
                var result = await Outgoing.GetAsync(ratingsUrl + id, Outgoing.ForwardHeaders(request), ratingsTimeout,
                    request.HttpContext.RequestAborted);
                if (result.Ok)
                {
                    (stars1, stars2) = ParseRatings(result.Body!);
                }
                else
                {
                    logger.LogWarning("ratings call failed: {Result}", result);
                }
            }

            Rating? RatingOf(int? stars) => !ratingsEnabled ? null
                : stars is { } s ? new Rating(s, starColor, null)
                : new Rating(null, null, "Ratings service is currently unavailable");

            return Results.Json(new ReviewsResponse(
                id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                podName,
                clusterName,
                version,
                [
                    new Review("Reviewer1", Reviewer1Text, RatingOf(stars1)),
                    new Review("Reviewer2", Reviewer2Text, RatingOf(stars2)),
                ]));
        });
    }

    private static (int?, int?) ParseRatings(string body)
    {
        try
        {
            if (JsonNode.Parse(body)?["ratings"] is JsonObject ratings)
            {
                return (Stars(ratings["Reviewer1"]), Stars(ratings["Reviewer2"]));
            }
        }
        catch (JsonException)
        {
        }
        return (null, null);

        static int? Stars(JsonNode? node) =>
            node is JsonValue value && value.TryGetValue<int>(out var stars) ? stars : null;
    }
}

/// <summary>The reviews service's answer (Istio's shape plus "version", e.g. "v2").</summary>
internal sealed record ReviewsResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("podname")] string? PodName,
    [property: JsonPropertyName("clustername")] string? ClusterName,
    [property: JsonPropertyName("version")] string? Version,
    [property: JsonPropertyName("reviews")] IReadOnlyList<Review>? Reviews);

internal sealed record Review(
    [property: JsonPropertyName("reviewer")] string? Reviewer,
    [property: JsonPropertyName("text")] string? Text,
    [property: JsonPropertyName("rating"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Rating? Rating);

internal sealed record Rating(
    [property: JsonPropertyName("stars"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Stars,
    [property: JsonPropertyName("color"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Color,
    [property: JsonPropertyName("error"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error);
