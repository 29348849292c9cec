using System.Collections.Concurrent;
using Bowline.Api.Management;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Bowline.Cli.Tests;

/// <summary>
/// A stand-in for the control plane's management API on a free loopback port: answers what the test sets and
/// records what the CLI sent. Replaced by the real control plane in the integrator's end-to-end tests.
/// </summary>
internal sealed class FakeControlPlane : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeControlPlane(WebApplication app) => _app = app;

    public ConcurrentQueue<(string Path, ConfigFiles Body)> Received { get; } = new();
    public int Status { get; set; } = 200;
    public ApplyResult Result { get; set; } = new();
    public ProxyStatus[] Proxies { get; set; } = [];
    public Uri Url { get; private set; } = null!;

    public static async Task<FakeControlPlane> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var fake = new FakeControlPlane(app);
        app.MapPost(ManagementApi.Apply, (ConfigFiles body) => fake.Config(body, ManagementApi.Apply));
        app.MapPost(ManagementApi.Delete, (ConfigFiles body) => fake.Config(body, ManagementApi.Delete));
        app.MapGet(ManagementApi.Proxies, () => Results.Json(fake.Proxies, ManagementJson.Default.ProxyStatusArray));
        app.MapGet(ManagementApi.Proxies + "/{id}/config", (string id) =>
            fake.Proxies.Any(p => p.Name == id) ? Results.Text($$"""{"proxy":"{{id}}"}""", "application/json") : Results.NotFound());
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        fake.Url = new Uri(address);
        return fake;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private IResult Config(ConfigFiles body, string path)
    {
        Received.Enqueue((path, body));
        return Results.Json(Result, ManagementJson.Default.ApplyResult, statusCode: Status);
    }
}
