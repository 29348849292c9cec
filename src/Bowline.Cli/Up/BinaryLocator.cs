namespace Bowline.Cli.Up;

/// <summary>
/// Where the proxy and control plane are: beside the CLI in artifacts/bin/&lt;Project&gt;/&lt;cfg&gt;/, same &lt;cfg&gt;
/// folder as the CLI's own; BOWLINE_PROXY_DLL / BOWLINE_CONTROLPLANE_DLL override.
/// </summary>
internal static class BinaryLocator
{
    public static string ProxyDll => Locate("BOWLINE_PROXY_DLL", "Bowline.Proxy");

    /// <summary>
    /// The proxy's Native AOT build (<c>./bowline build-aot</c>; artifacts/aot/publish/Bowline.Proxy/release_linux-x64/):
    /// what a Release CLI starts instead of <c>dotnet Bowline.Proxy.dll</c> — a third of the memory, ready sooner, no
    /// JIT at run time (bench/README.md, "Tuning log"). Null when it was not built, when it is older than the JIT build
    /// of the proxy or of Bowline.Api (sources changed since: it would run old code), for a Debug CLI, or when
    /// BOWLINE_PROXY_DLL names a dll.
    /// </summary>
    public static string? ProxyNative
    {
        get
        {
            if (Environment.GetEnvironmentVariable("BOWLINE_PROXY_DLL") is { Length: > 0 })
            {
                return null;
            }

            var dll = ProxyDll;
            var configDir = Path.GetDirectoryName(dll)!;
            if (!string.Equals(Path.GetFileName(configDir), "release", StringComparison.Ordinal))
            {
                return null;
            }

            // artifacts/bin/Bowline.Proxy/release/ → artifacts/aot/publish/Bowline.Proxy/release_linux-x64/Bowline.Proxy
            var artifacts = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(configDir)))!;
            var native = Path.Combine(artifacts, "aot", "publish", "Bowline.Proxy", "release_linux-x64", "Bowline.Proxy");
            if (!File.Exists(native))
            {
                return null;
            }

            var built = File.GetLastWriteTimeUtc(native);
            string[] jitParts = [dll, Path.Combine(configDir, "Bowline.Api.dll")];
            return jitParts.Any(p => File.Exists(p) && File.GetLastWriteTimeUtc(p) > built) ? null : native;
        }
    }

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
