using Bowline.Api.Resources;

namespace Bowline.Api.Yaml;

/// <summary>Turns a YAML file (one or more documents) into typed resources, with every problem located at file:line.</summary>
public static class ResourceParser
{
    /// <summary>Top-level fields every kind may carry without being refused: status is server-written and meaningless here.</summary>
    private static readonly HashSet<string> IgnoredRootFields = new(StringComparer.Ordinal) { "status" };

    public static ParseResult Parse(string file, string content)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(content);
        var resources = new List<ParsedResource>();
        var diagnostics = new List<Diagnostic>();
        var (documents, syntaxError) = YamlTree.Load(content);
        foreach (var document in documents)
        {
            ParseDocument(file, content, document, resources, diagnostics);
        }
        if (syntaxError is not null)
        {
            diagnostics.Add(new Diagnostic(DiagnosticSeverity.Error, file, YamlTree.Line(syntaxError.Start), "", $"invalid YAML: {SyntaxMessage(syntaxError)}"));
        }
        return new ParseResult(resources, diagnostics);
    }

    private static void ParseDocument(string file, string content, YDocument document, List<ParsedResource> resources, List<Diagnostic> diagnostics)
    {
        if (document.Root is null or YScalar { IsNull: true })
        {
            return;
        }
        if (document.Root is not YMapping root)
        {
            diagnostics.Add(new Diagnostic(DiagnosticSeverity.Error, file, document.Root.Line, "", "expected a Kubernetes object (a mapping with apiVersion, kind and metadata)"));
            return;
        }
        var apiVersion = RequiredString(file, root, "apiVersion", diagnostics);
        var kind = RequiredString(file, root, "kind", diagnostics);
        if (apiVersion is null || kind is null)
        {
            return;
        }
        switch (ResourceKinds.Resolve(apiVersion, kind))
        {
            case ResourceKinds.Refuse refuse:
                diagnostics.Add(new Diagnostic(DiagnosticSeverity.Error, file, root.Line, "", refuse.Message));
                return;
            case ResourceKinds.Ignore ignore:
                diagnostics.Add(new Diagnostic(DiagnosticSeverity.Warning, file, root.Line, "", ignore.Message));
                return;
            case ResourceKinds.Bind bind:
                var errorsBefore = diagnostics.Count;
                var map = new SourceMap(root.Line);
                var binder = new YamlBinder(file, diagnostics, map);
                if (binder.BindRoot(bind.Type, root, IgnoredRootFields) is not Resource resource)
                {
                    return;
                }
                if (resource is ConfigMap { IsMeshConfig: true } configMap)
                {
                    resource = configMap with { Mesh = MeshConfigReader.Read(file, root, map, diagnostics) };
                }
                if (resource.Metadata.Name.Length == 0)
                {
                    diagnostics.Add(new Diagnostic(DiagnosticSeverity.Error, file, map.LineOf("metadata.name"), "metadata.name", "required field is missing"));
                }
                // A document with errors yields no resource: callers act only on what parsed cleanly.
                if (diagnostics.Count == errorsBefore)
                {
                    map.Attach(resource);
                    resources.Add(new ParsedResource(resource, new SourceLocation(file, root.Line), DocumentText(content, document)));
                }
                return;
        }
    }

    private static string? RequiredString(string file, YMapping root, string field, List<Diagnostic> diagnostics)
    {
        var entry = root.Entries.FirstOrDefault(e => e.Key.Value == field);
        if (entry.Value is YScalar { IsNull: false } scalar && scalar.Value.Trim().Length > 0)
        {
            return scalar.Value;
        }
        var line = entry.Key?.Line ?? root.Line;
        diagnostics.Add(new Diagnostic(DiagnosticSeverity.Error, file, line, field, entry.Value is null or YScalar ? "required field is missing" : "expected a string"));
        return null;
    }

    /// <summary>The document's own text, without the "---" that separated it from the previous one.</summary>
    private static string DocumentText(string content, YDocument document)
    {
        var text = content[document.StartIndex..Math.Min(document.EndIndex, content.Length)];
        if (text.StartsWith("---", StringComparison.Ordinal))
        {
            var newline = text.IndexOf('\n', StringComparison.Ordinal);
            text = newline < 0 ? "" : text[(newline + 1)..];
        }
        return text.TrimEnd() + "\n";
    }

    /// <summary>YamlDotNet prefixes messages with "(Line: 3, Col: 5, Idx: 20) - (...): "; the line is already in the diagnostic.</summary>
    private static string SyntaxMessage(YamlDotNet.Core.YamlException e)
    {
        var message = e.InnerException?.Message ?? e.Message;
        var cut = message.LastIndexOf("): ", StringComparison.Ordinal);
        return cut < 0 ? message : message[(cut + 3)..];
    }
}
