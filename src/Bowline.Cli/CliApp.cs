using System.CommandLine;
using Bowline.Cli.Apply;
using Bowline.Cli.Status;
using Bowline.Cli.Up;
using Bowline.Cli.Validate;

namespace Bowline.Cli;

/// <summary>The command tree and how a command line is dispatched onto it.</summary>
internal static class CliApp
{
    /// <summary>Exit code for a command line that does not parse (unknown command, missing option), as with most CLIs.</summary>
    public const int UsageError = 2;

    public static RootCommand Build(CliContext context) =>
        new("bowline — an Istio-compatible service mesh on one machine")
        {
            UpCommand.Create(context),
            ApplyCommand.CreateApply(context),
            ApplyCommand.CreateDelete(context),
            ValidateCommand.Create(context),
            ProxyStatusCommand.Create(context),
            ProxyConfigCommand.Create(context),
        };

    public static async Task<int> RunAsync(IReadOnlyList<string> args, CliContext context)
    {
        var root = Build(context);
        var parse = root.Parse(args);
        var invocation = new InvocationConfiguration
        {
            Output = context.Out,
            Error = context.Error,
            // `up` handles SIGINT/SIGTERM itself: it must stop its children, which takes longer than any fixed timeout.
            ProcessTerminationTimeout = null,
        };
        if (parse.Errors.Count == 0)
        {
            return await parse.InvokeAsync(invocation);
        }
        foreach (var error in parse.Errors)
        {
            context.Error.WriteLine($"error: {error.Message}");
        }
        context.Error.WriteLine();
        // The usage of the command the user was typing (the root for an unknown command), on stderr.
        root.Parse([.. CommandPath(parse.CommandResult.Command, root), "--help"])
            .Invoke(new InvocationConfiguration { Output = context.Error });
        return UsageError;
    }

    private static IEnumerable<string> CommandPath(Command command, RootCommand root) =>
        command == root ? [] : [command.Name];
}
