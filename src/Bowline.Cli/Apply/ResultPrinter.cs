using Bowline.Api.Management;

namespace Bowline.Cli.Apply;

/// <summary>kubectl-like output of an <see cref="ApplyResult"/>: changes on stdout, warnings and errors on stderr.</summary>
internal static class ResultPrinter
{
    public static void Print(ApplyResult result, CliContext context)
    {
        foreach (var change in result.Changes)
        {
            context.Out.WriteLine(change);
        }
        PrintProblems(result, context);
    }

    public static void PrintProblems(ApplyResult result, CliContext context)
    {
        foreach (var warning in result.Warnings)
        {
            context.Error.WriteLine($"warning: {warning}");
        }
        foreach (var error in result.Errors)
        {
            context.Error.WriteLine(error);
        }
    }
}
