using Bowline.Api.Resources;

namespace Bowline.Api.Yaml;

/// <summary>
/// Reads the MeshConfig embedded as a YAML string in the istio ConfigMap's data.mesh. A literal block ("mesh: |") keeps
/// its lines, so problems inside it are located at their real file line ("data.mesh.accessLogEncoding" at line 9); any
/// other scalar style is reported at the line of "mesh:".
/// </summary>
internal static class MeshConfigReader
{
    public const string Path = "data." + ConfigMap.MeshKey;

    /// <summary>The mesh config of a ConfigMap document, or null when it has none (or it is not the mesh ConfigMap).</summary>
    public static MeshConfig? Read(string file, YMapping root, SourceMap map, List<Diagnostic> diagnostics)
    {
        var data = root.Entries.FirstOrDefault(e => e.Key.Value == "data").Value as YMapping;
        var entry = data?.Entries.FirstOrDefault(e => e.Key.Value == ConfigMap.MeshKey);
        if (entry?.Value is not YScalar scalar)
        {
            return null;
        }

        var keyLine = entry.Value.Key.Line;
        // Leading newlines put the embedded document's first line where the block's text starts in the file.
        var padding = scalar.Literal ? scalar.Line : 0;
        var text = new string('\n', padding) + scalar.Value;
        var local = new List<Diagnostic>();
        var (documents, syntaxError) = YamlTree.Load(text);
        MeshConfig? mesh = new();
        if (syntaxError is not null)
        {
            local.Add(new Diagnostic(DiagnosticSeverity.Error, file, YamlTree.Line(syntaxError.Start), Path, $"invalid YAML: {syntaxError.Message}"));
        }
        else if (documents.Count > 1)
        {
            local.Add(new Diagnostic(DiagnosticSeverity.Error, file, keyLine, Path, "expected one YAML document"));
        }
        else if (documents.Count == 1 && documents[0].Root is { } node and not YScalar { IsNull: true })
        {
            var binder = new YamlBinder(file, local, scalar.Literal ? map : new SourceMap(keyLine));
            mesh = node is YMapping ? binder.Bind(typeof(MeshConfig), node, Path) as MeshConfig : null;
            if (node is not YMapping)
            {
                local.Add(new Diagnostic(DiagnosticSeverity.Error, file, node.Line, Path, "expected a mapping (MeshConfig)"));
            }
        }

        foreach (var d in local)
        {
            diagnostics.Add(scalar.Literal ? d : d with { Line = keyLine });
        }

        return mesh;
    }
}
