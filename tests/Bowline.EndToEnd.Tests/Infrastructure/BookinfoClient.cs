using System.Net;
using System.Text.RegularExpressions;

namespace Bowline.EndToEnd.Tests.Infrastructure;

/// <summary>A browser-like user of bookinfo's productpage through the ingress gateway: logs in, reads which reviews version answered.</summary>
internal sealed partial class BookinfoClient : IDisposable
{
    private readonly HttpClient _http;

    public BookinfoClient(Uri gateway)
    {
        var handler = new SocketsHttpHandler { UseProxy = false, CookieContainer = new CookieContainer(), AllowAutoRedirect = true };
        _http = new HttpClient(handler) { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(20) };
    }

    public async Task LoginAsync(string user)
    {
        using var form = new FormUrlEncodedContent([new("username", user)]);
        using var response = await _http.PostAsync("login", form);
        response.EnsureSuccessStatusCode();
    }

    public async Task<string> ProductPageAsync()
    {
        using var response = await _http.GetAsync("productpage");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"productpage answered {(int)response.StatusCode}: {body}");
        return body;
    }

    /// <summary>"reviews-v1", "reviews-v2" or "reviews-v3"; fails when the page names none or several.</summary>
    public async Task<string> ReviewsVersionAsync()
    {
        var page = await ProductPageAsync();
        var versions = ReviewsVersion().Matches(page).Select(m => m.Value).Distinct().ToList();
        Assert.True(versions.Count == 1, $"expected exactly one reviews version on the page, found [{string.Join(", ", versions)}]");
        return versions[0];
    }

    public async Task<Dictionary<string, int>> CountVersionsAsync(int requests)
    {
        var counts = new Dictionary<string, int>();
        for (var i = 0; i < requests; i++)
        {
            var v = await ReviewsVersionAsync();
            counts[v] = counts.GetValueOrDefault(v) + 1;
        }

        return counts;
    }

    public void Dispose() => _http.Dispose();

    [GeneratedRegex("reviews-v[0-9]")]
    private static partial Regex ReviewsVersion();
}
