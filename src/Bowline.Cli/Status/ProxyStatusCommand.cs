using System.CommandLine;
using System.Text.Json;
using Bowline.Api.Management;
using Bowline.Cli.Mesh;

namespace Bowline.Cli.Status;

/// <summary><c>bowline proxy-status</c>: every proxy's sync state with the control plane, like istioctl proxy-status.</summary>
internal static class ProxyStatusCommand
{
    public static Command Create(CliContext context)
    {
        var output = new Option<string>("--output", "-o")
        {
            Description = "Output format",
            DefaultValueFactory = _ => "table",
        };
        output.AcceptOnlyFromAmong("table", "json");
        var controlPlane = CommonOptions.ControlPlane();
        var command = new Command("proxy-status", "Show each proxy's config version and sync state") { output, controlPlane };
        command.SetAction((parse, cancel) =>
            RunAsync(parse.GetValue(output) == "json", parse.GetValue(controlPlane), context, cancel));
        return command;
    }

    public static async Task<int> RunAsync(bool json, string? controlPlaneOption, CliContext context, CancellationToken cancel)
    {
        var baseAddress = ControlPlaneLocator.Locate(controlPlaneOption, context);
        if (baseAddress is null)
        {
            return 1;
        }
        using var client = new ControlPlaneClient(baseAddress);
        ProxyStatus[] proxies;
        try
        {
            proxies = await client.GetProxiesAsync(cancel);
        }
        catch (Exception e) when (e is HttpRequestException or ControlPlaneException or TaskCanceledException or JsonException)
        {
            context.Error.WriteLine($"error: control plane {baseAddress}: {e.Message}");
            return 1;
        }
        var sorted = proxies.OrderBy(p => p.Name, StringComparer.Ordinal).ToArray();
        if (json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(sorted, ManagementJson.Default.ProxyStatusArray));
            return 0;
        }
        var table = new TextTable("NAME", "WORKLOAD", "NAMESPACE", "VERSION", "STATE", "ADMIN");
        foreach (var p in sorted)
        {
            table.Add(p.Name, p.Workload, p.Namespace, p.Version ?? "-", p.State, p.Admin);
        }
        table.WriteTo(context.Out);
        return 0;
    }
}
