using Bowline.Api.Management;

namespace Bowline.Cli.Files;

/// <summary>
/// Reads what <c>-f</c> names: a file as is, a directory as its top-level *.yaml/*.yml (sorted, so apply order is stable).
/// Names are kept as the user typed them so the control plane's messages point at the user's own paths.
/// </summary>
internal static class ConfigFileLoader
{
    /// <summary>For the -f commands: the files, or null after printing why they could not be read.</summary>
    public static IReadOnlyList<ConfigFile>? LoadOrReport(IEnumerable<string> paths, CliContext context)
    {
        try
        {
            return Load(paths);
        }
        catch (ConfigFileException e)
        {
            context.Error.WriteLine($"error: {e.Message}");
            return null;
        }
    }

    public static IReadOnlyList<ConfigFile> Load(IEnumerable<string> paths)
    {
        var files = new List<ConfigFile>();
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                var names = YamlFilesIn(path);
                if (names.Count == 0)
                {
                    throw new ConfigFileException($"{path}: no .yaml or .yml files in this directory");
                }
                files.AddRange(names.Select(name => Read(Path.Join(path, name))));
            }
            else if (File.Exists(path))
            {
                files.Add(Read(path));
            }
            else
            {
                throw new ConfigFileException($"{path}: no such file or directory");
            }
        }
        return files;
    }

    /// <summary>File names (not paths) of the directory's top-level YAML files, sorted ordinally.</summary>
    public static IReadOnlyList<string> YamlFilesIn(string directory) =>
        Directory.EnumerateFiles(directory)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(name => name.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase)
                           || name.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .ToList();

    private static ConfigFile Read(string path)
    {
        try
        {
            return new ConfigFile { Name = path, Content = File.ReadAllText(path) };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigFileException($"{path}: {e.Message}");
        }
    }
}

internal sealed class ConfigFileException(string message) : Exception(message);
