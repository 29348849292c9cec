using System.Net;
using System.Text.Json;
using Bowline.EndToEnd.Tests.Infrastructure;

namespace Bowline.EndToEnd.Tests;

/// <summary>
/// samples/egress under `bowline up`: the sleep app fetches URLs through its sidecar (HTTP_PROXY), as Istio's
/// "Accessing External Services" and "Egress Gateways" tasks do with curl; the external host is a local server.
/// </summary>
public sealed class EgressTests
{
    private static string Sample(string file) => Path.Combine(Repo.Sample("egress"), file);

    [Fact]
    public async Task RegistryOnly_Blocks_ServiceEntryAllows_EgressGatewayCarries_AllowAnyPassesThrough()
    {
        await using var external = new ExternalServer();
        var mesh = await MeshProcess.StartAsync(Repo.Sample("egress"));
        var temp = Directory.CreateTempSubdirectory("bowline-egress-").FullName;
        try
        {
            using var app = new HttpClient { BaseAddress = mesh.Gateway, Timeout = TimeSpan.FromSeconds(30) };
            var sidecarAdmin = AdminOf(mesh, "sleep-0.default");
            var unregistered = $"http://localhost:{external.Port}/direct";

            // REGISTRY_ONLY (the sample's mesh config): neither an unknown name nor a plain address gets out.
            var blocked = await FetchAsync(app, "http://api.external.test/");
            Assert.Equal(HttpStatusCode.BadGateway, blocked.Status);
            Assert.Equal(HttpStatusCode.BadGateway, (await FetchAsync(app, unregistered)).Status);
            Assert.Equal(0, external.Requests);
            Assert.Equal(2, (await EgressStatsAsync(sidecarAdmin)).BlackHole);

            // A ServiceEntry registers the host: the same request now reaches the external server.
            var entry = Path.Combine(temp, "external-serviceentry.yaml");
            await File.WriteAllTextAsync(entry, (await File.ReadAllTextAsync(Sample("networking/external-serviceentry.yaml"))).Replace("18000", external.Port.ToString(), StringComparison.Ordinal));
            Assert.Equal(0, (await mesh.CliAsync("apply", "-f", entry)).ExitCode);
            var direct = await Eventually.WaitAsync(async () => await FetchAsync(app, "http://api.external.test/") is { Status: HttpStatusCode.OK } r ? r : null,
                TimeSpan.FromSeconds(20), "the ServiceEntry to let api.external.test through");
            Assert.StartsWith("external\nGET / HTTP/1.1", direct.Body, StringComparison.Ordinal);
            Assert.Contains("Host: api.external.test", direct.Body, StringComparison.Ordinal);
            Assert.DoesNotContain("x-egress-gateway", direct.Body, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.BadGateway, (await FetchAsync(app, unregistered)).Status);

            // Istio's egress gateway task: mesh → istio-egressgateway → the external host; the gateway's route marks it.
            Assert.Equal(0, (await mesh.CliAsync("apply", "-f", Sample("networking/egress-gateway-routes.yaml"))).ExitCode);
            var viaGateway = await Eventually.WaitAsync(async () =>
                await FetchAsync(app, "http://api.external.test/") is { Status: HttpStatusCode.OK } r && r.Body.Contains("x-egress-gateway: istio-egressgateway", StringComparison.Ordinal) ? r : null,
                TimeSpan.FromSeconds(20), "api.external.test to go through the egress gateway");
            Assert.Contains("Host: api.external.test", viaGateway.Body, StringComparison.Ordinal);
            var gatewayConfig = await new HttpClient().GetStringAsync($"http://{AdminOf(mesh, "istio-egressgateway-0.istio-system")}/config_dump");
            Assert.Contains("outbound|80||api.external.test", gatewayConfig, StringComparison.Ordinal);

            // ALLOW_ANY: an unknown host passes through to the address the app asked for (PassthroughCluster).
            var before = external.Requests;
            Assert.Equal(0, (await mesh.CliAsync("apply", "-f", Sample("networking/allow-any.yaml"))).ExitCode);
            var passed = await Eventually.WaitAsync(async () => await FetchAsync(app, unregistered) is { Status: HttpStatusCode.OK } r ? r : null,
                TimeSpan.FromSeconds(20), "ALLOW_ANY to pass localhost through");
            Assert.StartsWith("external\nGET /direct HTTP/1.1", passed.Body, StringComparison.Ordinal);
            Assert.True(external.Requests > before);
            Assert.True((await EgressStatsAsync(sidecarAdmin)).Passthrough >= 1);
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"{e.Message}\n--- bowline up output ---\n{mesh.Output}", e);
        }
        finally
        {
            await mesh.DisposeAsync();
            Directory.Delete(temp, recursive: true);
        }
    }

    private sealed record Fetched(HttpStatusCode Status, string Body);

    private sealed record EgressStats(long BlackHole, long Passthrough);

    /// <summary>The sleep app fetches <paramref name="url"/> (through its sidecar) and answers with what it got.</summary>
    private static async Task<Fetched> FetchAsync(HttpClient app, string url)
    {
        using var response = await app.GetAsync("/fetch?url=" + Uri.EscapeDataString(url));
        return new Fetched(response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<EgressStats> EgressStatsAsync(string admin)
    {
        using var client = new HttpClient();
        using var doc = JsonDocument.Parse(await client.GetStringAsync($"http://{admin}/stats/egress"));
        return new EgressStats(doc.RootElement.GetProperty("blackHole").GetInt64(), doc.RootElement.GetProperty("passthrough").GetInt64());
    }

    private static string AdminOf(MeshProcess mesh, string proxy)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(mesh.Home, "mesh.json")));
        return doc.RootElement.GetProperty("proxies").EnumerateArray()
            .Single(p => p.GetProperty("name").GetString() == proxy).GetProperty("admin").GetString()!;
    }
}
