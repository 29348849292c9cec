using System.CommandLine;
using Bowline.Api.Management;
using Bowline.Cli.Apply;
using Bowline.Cli.Files;

namespace Bowline.Cli.Validate;

/// <summary><c>bowline validate -f ...</c>: check files offline, without a running mesh.</summary>
internal static class ValidateCommand
{
    public static Command Create(CliContext context)
    {
        var files = CommonOptions.Files();
        var command = new Command("validate", "Validate Istio/Kubernetes YAML offline (no mesh needed)") { files };
        command.SetAction(parse => Run(parse.GetRequiredValue(files), context));
        return command;
    }

    public static int Run(IReadOnlyList<string> paths, CliContext context)
    {
        if (ConfigFileLoader.LoadOrReport(paths, context) is not { } files)
        {
            return 1;
        }

        var result = OfflineValidation.Run(files);
        ResultPrinter.PrintProblems(result, context);
        if (!result.Errors.IsEmpty)
        {
            return 1;
        }
        context.Out.WriteLine($"{files.Count} file(s) valid");
        return 0;
    }
}
