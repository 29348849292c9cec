using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Bookinfo;

/// <summary>
/// productpage: the bookstore's web page and JSON API (Istio's productpage v1). It calls details and reviews,
/// forwarding the incoming trace/context headers, and sends "end-user: &lt;name&gt;" once someone has signed in.
/// As in Istio's productpage, details gets one 3 s try and reviews two 3 s tries.
/// </summary>
internal static class ProductPage
{
    private const string DetailsUnavailable = "Sorry, product details are currently unavailable for this book.";
    private const string ReviewsUnavailable = "Sorry, product reviews are currently unavailable for this book.";
    private const string RatingsUnavailable = "Sorry, product ratings are currently unavailable for this book.";
    private const string UserCookie = "user";
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(3);
    private const int ReviewsTries = 2;

    private static readonly Product[] Products =
    [
        new(0, "The Comedy of Errors",
            "<a href=\"https://en.wikipedia.org/wiki/The_Comedy_of_Errors\">Wikipedia Summary</a>: The Comedy of Errors is one of <b>William Shakespeare's</b> early plays. It is his shortest and one of his most farcical comedies, with a major part of the humour coming from slapstick and mistaken identity, in addition to puns and word play."),
    ];

    private static readonly JsonSerializerOptions ReadOptions = new() { PropertyNameCaseInsensitive = true };

    public static void Map(WebApplication app)
    {
        var detailsUrl = Outgoing.ServiceUrl("details") + "/details/";
        var reviewsUrl = Outgoing.ServiceUrl("reviews") + "/reviews/";
        var ratingsUrl = Outgoing.ServiceUrl("ratings") + "/ratings/";
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("productpage");

        async Task<OutgoingResult> GetDetails(int id, HttpRequest request)
        {
            var result = await Outgoing.GetAsync(detailsUrl + id, ForwardHeaders(request), CallTimeout, request.HttpContext.RequestAborted);
            if (!result.Ok)
            {
                logger.LogWarning("details call failed: {Result}", result);
            }
            return result;
        }

        async Task<OutgoingResult> GetReviews(int id, HttpRequest request)
        {
            OutgoingResult result = new(null, null, "not called");
            for (var attempt = 1; attempt <= ReviewsTries; attempt++)
            {
                result = await Outgoing.GetAsync(reviewsUrl + id, ForwardHeaders(request), CallTimeout, request.HttpContext.RequestAborted);
                if (result.Ok)
                {
                    return result;
                }
                logger.LogWarning("reviews call failed (try {Attempt} of {Tries}): {Result}", attempt, ReviewsTries, result);
            }
            return result;
        }

        async Task<OutgoingResult> GetRatings(int id, HttpRequest request)
        {
            var result = await Outgoing.GetAsync(ratingsUrl + id, ForwardHeaders(request), CallTimeout, request.HttpContext.RequestAborted);
            if (!result.Ok)
            {
                logger.LogWarning("ratings call failed: {Result}", result);
            }
            return result;
        }

        app.MapGet("/", () => Results.Content(IndexHtml, "text/html; charset=utf-8"));
        app.MapGet("/index.html", () => Results.Content(IndexHtml, "text/html; charset=utf-8"));
        app.MapGet("/health", () => Results.Json(new JsonObject { ["status"] = "Productpage is healthy" }));
        app.MapGet("/static/bookinfo.css", () => Results.Text(Css, "text/css; charset=utf-8"));

        app.MapPost("/login", async (HttpRequest request, HttpResponse response) =>
        {
            var user = request.HasFormContentType
                ? (await request.ReadFormAsync(request.HttpContext.RequestAborted))["username"].ToString()
                : "";
            // The name travels on as the end-user header: no control characters (CR/LF) in it.
            user = new string(user.Where(c => !char.IsControl(c)).ToArray()).Trim();
            if (user.Length > 0)
            {
                response.Cookies.Append(UserCookie, user, new CookieOptions { Path = "/", HttpOnly = true, SameSite = SameSiteMode.Lax });
            }
            return Results.Redirect("/productpage");
        });

        app.MapGet("/logout", (HttpResponse response) =>
        {
            response.Cookies.Delete(UserCookie, new CookieOptions { Path = "/" });
            return Results.Redirect("/productpage");
        });

        app.MapGet("/productpage", async (HttpRequest request) =>
        {
            const int productId = 0;
            var details = await GetDetails(productId, request);
            var reviews = await GetReviews(productId, request);
            var html = RenderProductPage(Products[productId], User(request), details, reviews);
            return Results.Content(html, "text/html; charset=utf-8");
        });

        app.MapGet("/api/v1/products", () => Results.Json(Products));

        app.MapGet("/api/v1/products/{id:int}", async (int id, HttpRequest request) =>
            ApiResult(await GetDetails(id, request), DetailsUnavailable));

        app.MapGet("/api/v1/products/{id:int}/reviews", async (int id, HttpRequest request) =>
            ApiResult(await GetReviews(id, request), ReviewsUnavailable));

        app.MapGet("/api/v1/products/{id:int}/ratings", async (int id, HttpRequest request) =>
            ApiResult(await GetRatings(id, request), RatingsUnavailable));
    }

    /// <summary>The signed-in user from the session cookie, or null.</summary>
    private static string? User(HttpRequest request) =>
        request.Cookies.TryGetValue(UserCookie, out var user) && !string.IsNullOrWhiteSpace(user) ? user : null;

    /// <summary>The incoming context headers, with end-user set to the signed-in user when there is one.</summary>
    private static List<KeyValuePair<string, string>> ForwardHeaders(HttpRequest request)
    {
        var headers = Outgoing.ForwardHeaders(request);
        if (User(request) is { } user)
        {
            headers.RemoveAll(h => string.Equals(h.Key, "end-user", StringComparison.OrdinalIgnoreCase));
            headers.Add(new("end-user", user));
        }
        return headers;
    }

    private static IResult ApiResult(OutgoingResult result, string error) => result.Ok
        ? Results.Content(result.Body, "application/json")
        : Results.Json(new JsonObject { ["error"] = error }, statusCode: result.Status is { } s and not 200 ? s : 500);

    private static string RenderProductPage(Product product, string? user, OutgoingResult details, OutgoingResult reviews)
    {
        var html = new StringBuilder();
        html.Append("""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Simple Bookstore App</title>
            <link rel="stylesheet" href="/static/bookinfo.css">
            </head>
            <body>
            <nav class="navbar">
              <a class="brand" href="/productpage">BookInfo Sample</a>

            """);
        if (user is not null)
        {
            html.Append(CultureInfo.InvariantCulture,
                $"  <span class=\"user\">Welcome, <b>{Encode(user)}</b> <a href=\"/logout\">sign out</a></span>\n");
        }
        else
        {
            html.Append("""
                  <form class="login" method="post" action="/login">
                    <input type="text" name="username" placeholder="User Name" aria-label="User Name">
                    <input type="password" name="passwd" placeholder="Password" aria-label="Password">
                    <button type="submit">Sign in</button>
                  </form>

                """);
        }
        html.Append("</nav>\n<main>\n");
        html.Append(CultureInfo.InvariantCulture, $"<h1>{Encode(product.Title)}</h1>\n");
        html.Append(CultureInfo.InvariantCulture, $"<p class=\"summary\">{product.DescriptionHtml}</p>\n");
        html.Append("<div class=\"columns\">\n<section class=\"details\">\n");
        AppendDetails(html, details);
        html.Append("</section>\n<section class=\"reviews\">\n");
        AppendReviews(html, reviews);
        html.Append("</section>\n</div>\n</main>\n</body>\n</html>\n");
        return html.ToString();
    }

    private static void AppendDetails(StringBuilder html, OutgoingResult result)
    {
        JsonObject? details = null;
        if (result.Ok)
        {
            try
            {
                details = JsonNode.Parse(result.Body!) as JsonObject;
            }
            catch (JsonException)
            {
            }
        }
        if (details is null)
        {
            html.Append("<h4 class=\"error\">Error fetching product details!</h4>\n");
            html.Append(CultureInfo.InvariantCulture, $"<p>{Encode(DetailsUnavailable)}</p>\n");
            return;
        }
        html.Append("<h4>Book Details</h4>\n<dl>\n");
        foreach (var (label, key) in new[]
        {
            ("Type:", "type"), ("Pages:", "pages"), ("Publisher:", "publisher"), ("Language:", "language"),
            ("ISBN-10:", "ISBN-10"), ("ISBN-13:", "ISBN-13"),
        })
        {
            var value = details[key] is JsonValue v ? v.ToString() : "";
            html.Append(CultureInfo.InvariantCulture, $"  <dt>{Encode(label)}</dt><dd>{Encode(value)}</dd>\n");
        }
        html.Append("</dl>\n");
    }

    private static void AppendReviews(StringBuilder html, OutgoingResult result)
    {
        ReviewsResponse? reviews = null;
        if (result.Ok)
        {
            try
            {
                reviews = JsonSerializer.Deserialize<ReviewsResponse>(result.Body!, ReadOptions);
            }
            catch (JsonException)
            {
            }
        }
        if (reviews?.Reviews is null)
        {
            html.Append("<h4 class=\"error\">Error fetching product reviews!</h4>\n");
            html.Append(CultureInfo.InvariantCulture, $"<p>{Encode(ReviewsUnavailable)}</p>\n");
            return;
        }
        html.Append("<h4>Book Reviews</h4>\n");
        foreach (var review in reviews.Reviews)
        {
            html.Append("<blockquote>\n");
            html.Append(CultureInfo.InvariantCulture, $"  <p>{Encode(review.Text ?? "")}</p>\n");
            html.Append(CultureInfo.InvariantCulture, $"  <small>{Encode(review.Reviewer ?? "")}</small>\n");
            if (review.Rating is { Stars: { } stars } rating)
            {
                stars = Math.Clamp(stars, 0, 5);
                html.Append(CultureInfo.InvariantCulture,
                    $"  <p class=\"stars\" style=\"color: {CssColor(rating.Color)}\" title=\"{stars} of 5 stars\">{new string('★', stars)}{new string('☆', 5 - stars)}</p>\n");
            }
            else if (review.Rating?.Error is { } error)
            {
                html.Append(CultureInfo.InvariantCulture, $"  <p><i>{Encode(error)}</i></p>\n");
            }
            html.Append("</blockquote>\n");
        }
        var servedBy = string.IsNullOrEmpty(reviews.Version) ? "unknown" : $"reviews-{reviews.Version}";
        html.Append(CultureInfo.InvariantCulture, $"<p class=\"served-by\">Reviews served by: <u>{Encode(servedBy)}</u></p>\n");
    }

    private static string Encode(string text) => HtmlEncoder.Default.Encode(text);

    /// <summary>A colour name or #hex from the reviews service, or black when it is anything else.</summary>
    private static string CssColor(string? color) =>
        color is { Length: > 0 and <= 32 } && color.All(c => char.IsAsciiLetterOrDigit(c) || c == '#') ? color : "black";

    private sealed record Product(
        [property: JsonPropertyName("id")] int Id,
        [property: JsonPropertyName("title")] string Title,
        [property: JsonPropertyName("descriptionHtml")] string DescriptionHtml);

    private const string IndexHtml = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>Simple Bookstore App</title>
        <link rel="stylesheet" href="/static/bookinfo.css">
        </head>
        <body>
        <main>
        <h1>Hello! This is a simple bookstore application consisting of four services.</h1>
        <table>
          <tr><th>productpage</th><td>this page and the product page; calls details and reviews</td></tr>
          <tr><th>details</th><td>book information</td></tr>
          <tr><th>reviews</th><td>book reviews: v1 without stars, v2 with black stars, v3 with red stars (calls ratings)</td></tr>
          <tr><th>ratings</th><td>book ranking information</td></tr>
        </table>
        <p>Click on one of the links below to auto generate a request to the backend as a real user or a tester.</p>
        <p><a href="/productpage?u=normal">Normal user</a></p>
        <p><a href="/productpage?u=test">Test user</a></p>
        </main>
        </body>
        </html>
        """;

    private const string Css = """
        body { font-family: Helvetica, Arial, sans-serif; margin: 0; color: #333; }
        .navbar { background: #222; color: #ddd; padding: 10px 20px; display: flex; justify-content: space-between; align-items: center; }
        .navbar a { color: #fff; text-decoration: none; }
        .navbar .brand { font-size: 1.3em; }
        .navbar input { padding: 3px; }
        main { padding: 10px 20px; }
        .columns { display: flex; gap: 40px; flex-wrap: wrap; }
        .columns section { flex: 1; min-width: 300px; }
        dt { font-weight: bold; }
        dd { margin: 0 0 8px 0; }
        blockquote { border-left: 5px solid #eee; margin: 0 0 20px 0; padding: 5px 15px; }
        blockquote small { color: #777; }
        blockquote small::before { content: "\2014 "; }
        .stars { font-size: 1.4em; margin: 4px 0; }
        .error { color: #a94442; }
        table { border-collapse: collapse; }
        th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; }
        """;
}
