namespace Bowline.Cli.Up;

/// <summary>
/// Where the proxy and control plane are: beside the CLI in artifacts/bin/&lt;Project&gt;/&lt;cfg&gt;/, same &lt;cfg&gt;
/// folder as the CLI's own; BOWLINE_PROXY_DLL / BOWLINE_CONTROLPLANE_DLL override.
/// </summary>
internal static class BinaryLocator
{
    public static string ProxyDll => Locate("BOWLINE_PROXY_DLL", "Bowline.Proxy");

    public static string ControlPlaneDll => Locate("BOWLINE_CONTROLPLANE_DLL", "Bowline.ControlPlane");

    /// <summary>The dotnet host running the CLI (so children use the same runtime), else "dotnet" from PATH.</summary>
    public static string DotnetHost =>
        Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";

    private static string Locate(string variable, string project)
    {
        if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } overridden)
        {
            return Path.GetFullPath(overridden);
        }
        var cliDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = cliDir.Name;
        var binDir = cliDir.Parent?.Parent?.FullName ?? cliDir.FullName;
        return Path.Combine(binDir, project, configuration, project + ".dll");
    }
}
