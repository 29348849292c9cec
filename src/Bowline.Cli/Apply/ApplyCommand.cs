using System.CommandLine;
using Bowline.Api.Management;
using Bowline.Cli.Files;
using Bowline.Cli.Mesh;

namespace Bowline.Cli.Apply;

/// <summary><c>bowline apply -f ...</c> and <c>bowline delete -f ...</c>: send files to the running mesh's control plane.</summary>
internal static class ApplyCommand
{
    public static Command CreateApply(CliContext context) =>
        Create("apply", "Apply Istio/Kubernetes YAML to the running mesh", ManagementApi.Apply, context);

    public static Command CreateDelete(CliContext context) =>
        Create("delete", "Delete the resources named in YAML files from the running mesh", ManagementApi.Delete, context);

    private static Command Create(string name, string description, string apiPath, CliContext context)
    {
        var files = CommonOptions.Files();
        var controlPlane = CommonOptions.ControlPlane();
        var command = new Command(name, description) { files, controlPlane };
        command.SetAction((parse, cancel) =>
            RunAsync(apiPath, parse.GetRequiredValue(files), parse.GetValue(controlPlane), context, cancel));
        return command;
    }

    public static async Task<int> RunAsync(
        string apiPath, IReadOnlyList<string> paths, string? controlPlaneOption, CliContext context, CancellationToken cancel)
    {
        if (ConfigFileLoader.LoadOrReport(paths, context) is not { } files)
        {
            return 1;
        }

        var baseAddress = ControlPlaneLocator.Locate(controlPlaneOption, context);
        if (baseAddress is null)
        {
            return 1;
        }
        using var client = new ControlPlaneClient(baseAddress);
        try
        {
            var (accepted, result) = await client.PostConfigAsync(apiPath, new ConfigFiles { Files = [.. files] }, cancel);
            ResultPrinter.Print(result, context);
            return accepted ? 0 : 1;
        }
        catch (Exception e) when (e is HttpRequestException or ControlPlaneException or TaskCanceledException)
        {
            context.Error.WriteLine($"error: control plane {baseAddress}: {e.Message}");
            return 1;
        }
    }
}
