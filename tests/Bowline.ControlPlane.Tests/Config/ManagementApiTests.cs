using System.Net;
using System.Text;
using Bowline.Api.Management;
using Bowline.ControlPlane.Tests.Push;

namespace Bowline.ControlPlane.Tests.Config;

public sealed class ManagementApiTests
{
    [Fact]
    public async Task Apply_NewThenSameThenChanged_CreatedUnchangedConfigured()
    {
        await using var f = await ControlPlaneFixture.StartAsync();

        var created = (await f.ApplyAsync(Bookinfo.Services + "\n---\n" + Bookinfo.ReviewsRoutes)).Result.Changes;
        var again = (await f.ApplyAsync("# reformatted\n" + Bookinfo.Services + "\n---\n" + Bookinfo.ReviewsRoutes)).Result.Changes;
        var changed = (await f.ApplyAsync(Bookinfo.ReviewsRoutes.Replace("jason", "json", StringComparison.Ordinal))).Result.Changes;

        Assert.Equal(
            ["service/details created", "service/ratings created", "service/reviews created", "service/productpage created",
             "virtualservice.networking.istio.io/reviews created"],
            created.ToArray());
        Assert.All(again, line => Assert.EndsWith(" unchanged", line, StringComparison.Ordinal));
        Assert.Equal(["virtualservice.networking.istio.io/reviews configured"], changed.ToArray());
    }

    [Fact]
    public async Task Apply_UnknownSubset_WarnsButApplies()
    {
        await using var f = await ControlPlaneFixture.StartAsync();

        var (status, result) = await f.ApplyAsync(Bookinfo.Services + "\n---\n" + Bookinfo.ReviewsRoutes, "vs.yaml");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains(result.Warnings, w => w.StartsWith("vs.yaml:", StringComparison.Ordinal) && w.Contains("v2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Delete_ExistingAndMissing_DeletedAndNotFoundWarning()
    {
        await using var f = await ControlPlaneFixture.StartAsync();
        await f.ApplyAsync(Bookinfo.Services);

        var (status, result) = await f.PostAsync(ManagementApi.Delete, ("rm.yaml", Bookinfo.Services.Split("---")[0] + "---\n" + Bookinfo.ReviewsRule));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["service/details deleted"], result.Changes.ToArray());
        Assert.Contains(result.Warnings, w => w.EndsWith("destinationrule.networking.istio.io/reviews not found", StringComparison.Ordinal));
        Assert.Equal(3, (await f.ResourcesAsync()).Length);
        Assert.Equal(3, Directory.GetFiles(Path.Combine(f.StateDir, "store"), "*.yaml").Length);
    }

    [Fact]
    public async Task Apply_MalformedJson_400WithMessage()
    {
        await using var f = await ControlPlaneFixture.StartAsync();

        using var response = await f.Http.PostAsync(ManagementApi.Apply, new StringContent("{\"files\": [", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("malformed request body", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Apply_DeclaredBodyOver16MB_413()
    {
        await using var f = await ControlPlaneFixture.StartAsync();

        // Raw HTTP: the server answers from Content-Length alone, before any body is sent (HttpClient would still be
        // uploading and see the connection reset instead of the response).
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(f.BaseAddress.Host, f.BaseAddress.Port);
        var stream = tcp.GetStream();
        var head = $"POST {ManagementApi.Apply} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {(16 * 1024 * 1024) + 10}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var statusLine = await reader.ReadLineAsync().WaitAsync(Wait.Deadline);

        Assert.StartsWith("HTTP/1.1 413", statusLine, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProxyConfig_KnownAndUnknown_JsonOr404()
    {
        await using var f = await ControlPlaneFixture.StartAsync();
        await f.ApplyAsync(Bookinfo.All);

        var json = await f.Http.GetStringAsync(ManagementApi.Proxies + "/reviews-v1-0.default/config");
        using var unknown = await f.Http.GetAsync(ManagementApi.Proxies + "/nope-0.default/config");

        Assert.Contains("\"outbound|9080|v2|reviews.default.svc.cluster.local\"", json, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await f.Http.GetAsync(ManagementApi.Ready)).StatusCode);
    }
}
