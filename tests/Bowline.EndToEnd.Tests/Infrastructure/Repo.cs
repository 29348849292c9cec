namespace Bowline.EndToEnd.Tests.Infrastructure;

/// <summary>Where the repository and the built CLI are, seen from the test assembly (artifacts/bin/&lt;project&gt;/&lt;cfg&gt;/).</summary>
internal static class Repo
{
    public static string Root { get; } = FindRoot();

    /// <summary>The CLI built with the same configuration as these tests (the project reference builds it).</summary>
    public static string CliDll
    {
        get
        {
            var cfg = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Name;
            var path = Path.Combine(Root, "artifacts", "bin", "Bowline.Cli", cfg, "bowline.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"the CLI is not built at {path}");
        }
    }

    public static string Sample(string name) => Path.Combine(Root, "samples", name);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Bowline.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Bowline.slnx not found above " + AppContext.BaseDirectory);
    }
}
