using System.Globalization;
using System.Text;
using Bowline.Api.Management;

namespace Bowline.ControlPlane.Config;

/// <summary>
/// The store on disk: one YAML file per resource under &lt;state-dir&gt;/store, named by creation sequence so a reload
/// restores the creation order. The first line is a comment recording where the user wrote the document; the rest is
/// the document's original text. Writes go to a temp file then rename, so a crash never leaves a torn file.
/// </summary>
internal sealed class StoreFiles(string directory)
{
    private const string Header = "# bowline-source: ";

    public string Directory { get; } = directory;

    public void Write(StoredResource r)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var path = PathOf(r);
        var tmp = path + ".tmp";
        var text = $"{Header}{r.Line.ToString(CultureInfo.InvariantCulture)} {r.File}\n{r.Yaml}";
        File.WriteAllText(tmp, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        File.Move(tmp, path, overwrite: true);
    }

    public void Remove(StoredResource r)
    {
        var path = PathOf(r);
        if (File.Exists(path))
        {
            File.Delete(path);
        }
    }

    /// <summary>Stored documents in creation order; the loader parses each as the file named by its header.</summary>
    public IReadOnlyList<(long Sequence, string Path, ConfigFile File, int Line)> ReadAll()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return [];
        }

        var result = new List<(long, string, ConfigFile, int)>();
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, "*.yaml").Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            var dot = name.IndexOf('.', StringComparison.Ordinal);
            if (dot <= 0 || !long.TryParse(name.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
            {
                continue;
            }

            var text = File.ReadAllText(path, Encoding.UTF8);
            var (file, line, yaml) = SplitHeader(text, path);
            result.Add((seq, path, new ConfigFile { Name = file, Content = yaml }, line));
        }

        return result;
    }

    private static (string File, int Line, string Yaml) SplitHeader(string text, string path)
    {
        if (!text.StartsWith(Header, StringComparison.Ordinal))
        {
            return (path, 1, text);
        }

        var nl = text.IndexOf('\n', StringComparison.Ordinal);
        var header = nl < 0 ? text[Header.Length..] : text[Header.Length..nl];
        var yaml = nl < 0 ? "" : text[(nl + 1)..];
        var space = header.IndexOf(' ', StringComparison.Ordinal);
        if (space > 0 && int.TryParse(header.AsSpan(0, space), NumberStyles.None, CultureInfo.InvariantCulture, out var line))
        {
            return (header[(space + 1)..], line, yaml);
        }

        return (path, 1, yaml);
    }

    private string PathOf(StoredResource r) =>
        Path.Combine(Directory, string.Create(CultureInfo.InvariantCulture,
            $"{r.Sequence:D8}.{Safe(r.Id.Kind.ToLowerInvariant())}.{Safe(r.Id.Namespace)}.{Safe(r.Id.Name)}.yaml"));

    // Kubernetes names are DNS labels already; this only guards against a path separator sneaking in.
    private static string Safe(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var c in s)
        {
            sb.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_');
        }

        return sb.ToString();
    }
}
