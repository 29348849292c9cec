using System.Runtime.CompilerServices;
using Bowline.Api.Resources;

namespace Bowline.Api.Yaml;

/// <summary>
/// The line of every field path of one parsed document, so that checks run on the typed model can still say
/// file:line. Attached to the Resource instance (not to the public records, whose shape is a contract).
/// </summary>
internal sealed class SourceMap(int documentLine)
{
    private static readonly ConditionalWeakTable<Resource, SourceMap> Maps = new();

    private readonly Dictionary<string, int> _lines = new(StringComparer.Ordinal);

    public void Record(string path, int line) => _lines.TryAdd(path, line);

    /// <summary>The line of the path, else of its nearest recorded ancestor (a field left out is reported at its parent).</summary>
    public int LineOf(string path)
    {
        while (path.Length > 0)
        {
            if (_lines.TryGetValue(path, out var line))
            {
                return line;
            }
            path = Parent(path);
        }
        return documentLine;
    }

    public void Attach(Resource resource) => Maps.AddOrUpdate(resource, this);

    /// <summary>The map of a parsed resource; a resource built in code (or copied with `with`) is located at its document.</summary>
    public static SourceMap For(ParsedResource parsed) =>
        Maps.TryGetValue(parsed.Resource, out var map) ? map : new SourceMap(parsed.Location.Line);

    private static string Parent(string path)
    {
        var cut = Math.Max(path.LastIndexOf('.'), path.LastIndexOf('['));
        return cut <= 0 ? "" : path[..cut];
    }
}
