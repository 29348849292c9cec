namespace Bowline.Cli.Mesh;

/// <summary>The layout of <c>$BOWLINE_HOME</c> (default <c>~/.bowline</c>): <c>mesh.json</c> and <c>state/</c>.</summary>
internal sealed record BowlineHome(string Root)
{
    public string MeshFile => Path.Combine(Root, "mesh.json");
    public string StateDir => Path.Combine(Root, "state");
    public string LogsDir => Path.Combine(StateDir, "logs");
    public string RegistryFile => Path.Combine(StateDir, "registry.json");
    /// <summary>Kept outside state/ (which each up recreates) so a later up can find what an earlier one left.</summary>
    public string ProcessLedgerFile => Path.Combine(Root, "processes");

    public static BowlineHome FromEnvironment()
    {
        var configured = Environment.GetEnvironmentVariable("BOWLINE_HOME");
        return new BowlineHome(string.IsNullOrEmpty(configured)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".bowline")
            : Path.GetFullPath(configured));
    }

    public string LogFile(string processName) => Path.Combine(LogsDir, processName + ".log");
}
