using Bowline.Cli.Mesh;

namespace Bowline.Cli;

/// <summary>What every command writes to and where the mesh lives; tests pass their own writers and a temp home.</summary>
internal sealed record CliContext(TextWriter Out, TextWriter Error, BowlineHome Home)
{
    public static CliContext FromEnvironment() => new(Console.Out, Console.Error, BowlineHome.FromEnvironment());
}
