using System.Text.Json;
using Bowline.Api.Management;
using Bowline.Api.Xds;
using Bowline.ControlPlane.Config;
using Bowline.ControlPlane.Push;
using Bowline.ControlPlane.Telemetry;

namespace Bowline.ControlPlane.Management;

/// <summary>The CLI's HTTP API (<see cref="ManagementApi"/>), JSON through the source-generated contexts.</summary>
internal static class ManagementEndpoints
{
    public static void Map(WebApplication app, ConfigStore store, XdsServer xds, ReadinessFlag ready, ControlPlaneMetrics? metrics = null)
    {
        if (metrics is not null)
        {
            app.MapGet("/metrics", () => Results.Text(metrics.Render(), ControlPlaneMetrics.ContentType));
        }

        app.MapGet(ManagementApi.Ready, () => ready.IsReady ? Results.Text("ready") : Results.StatusCode(StatusCodes.Status503ServiceUnavailable));

        app.MapPost(ManagementApi.Apply, async (HttpContext ctx) => await (await ChangeAsync(ctx, store.Apply, metrics)).ExecuteAsync(ctx));
        app.MapPost(ManagementApi.Delete, async (HttpContext ctx) => await (await ChangeAsync(ctx, store.Delete, metrics)).ExecuteAsync(ctx));

        app.MapGet(ManagementApi.Proxies, () => Results.Json(xds.Statuses(), ManagementJson.Default.ProxyStatusArray));

        app.MapGet(ManagementApi.Proxies + "/{id}/config", (string id) =>
            xds.ConfigFor(id) is { } generated
                ? Results.Bytes(JsonSerializer.SerializeToUtf8Bytes(Redaction.WithoutSecrets(generated.Config), XdsJson.Default.ProxyConfig), "application/json")
                : Results.Text($"unknown proxy {id}", statusCode: StatusCodes.Status404NotFound));

        app.MapGet(ManagementApi.Resources, () => Results.Json(
            store.Current.Resources.Values.Select(r => new ResourceSummary
            {
                Kind = r.Resource.Kind,
                ApiVersion = r.Resource.ApiVersion,
                Namespace = r.Id.Namespace,
                Name = r.Id.Name,
            }).ToArray(),
            ManagementJson.Default.ResourceSummaryArray));
    }

    private static async Task<IResult> ChangeAsync(HttpContext ctx, Func<IReadOnlyList<ConfigFile>, ApplyOutcome> change, ControlPlaneMetrics? metrics)
    {
        var (files, status, error) = await BodyReader.ReadAsync(ctx.Request, ManagementJson.Default.ConfigFiles, ctx.RequestAborted);
        if (files is null)
        {
            return Results.Json(new ApplyResult { Errors = [error!] }, ManagementJson.Default.ApplyResult, statusCode: status);
        }

        var outcome = change(files.Files.IsDefault ? [] : files.Files);
        if (outcome.Refused)
        {
            metrics?.ValidationFailed(Math.Max(1, outcome.Result.Errors.Length));
        }
        else
        {
            metrics?.ConfigChanges(outcome.Result.Changes);
        }

        return Results.Json(outcome.Result, ManagementJson.Default.ApplyResult,
            statusCode: outcome.Refused ? StatusCodes.Status400BadRequest : StatusCodes.Status200OK);
    }
}
