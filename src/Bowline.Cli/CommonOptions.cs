using System.CommandLine;

namespace Bowline.Cli;

/// <summary>Options shared by several commands, so they are spelled and described the same everywhere.</summary>
internal static class CommonOptions
{
    public static Option<string[]> Files() => new("--filename", "-f")
    {
        Description = "A YAML file, or a directory whose top-level *.yaml/*.yml files are used (repeatable)",
        Required = true,
        HelpName = "FILE|DIR",
    };

    public static Option<string?> ControlPlane() => new("--control-plane")
    {
        Description = "The control plane's URL (default: the running mesh's, from $BOWLINE_HOME/mesh.json)",
        HelpName = "URL",
    };
}
