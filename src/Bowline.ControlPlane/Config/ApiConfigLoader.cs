using Bowline.Api.Management;
using Bowline.Api.Validation;
using Bowline.Api.Yaml;

namespace Bowline.ControlPlane.Config;

/// <summary>The loader backed by Bowline.Api's YAML parser, validator and analyzer.</summary>
internal sealed class ApiConfigLoader : IConfigLoader
{
    public LoadResult Validate(IReadOnlyList<ConfigFile> files)
    {
        var v = ConfigValidator.Validate(files);
        return new LoadResult(
            [.. v.Resources.Select(ToDocument)],
            [.. v.Errors.Select(d => d.ToString())],
            [.. v.Warnings.Select(d => d.ToString())]);
    }

    public LoadResult Parse(IReadOnlyList<ConfigFile> files)
    {
        var docs = new List<LoadedDocument>();
        var diagnostics = new List<Diagnostic>();
        foreach (var f in files)
        {
            var p = ResourceParser.Parse(f.Name, f.Content);
            docs.AddRange(p.Resources.Select(ToDocument));
            diagnostics.AddRange(p.Diagnostics);
        }

        return new LoadResult(
            docs,
            [.. diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString())],
            [.. diagnostics.Where(d => d.Severity == DiagnosticSeverity.Warning).Select(d => d.ToString())]);
    }

    public IReadOnlyList<Finding> Analyze(IReadOnlyList<StoredResource> world) =>
        [.. ConfigValidator.Analyze([.. world.Select(r => new ParsedResource(r.Resource, new SourceLocation(r.File, r.Line), r.Yaml))])
            .Select(d => new Finding(d.File, d.ToString()))];

    private static LoadedDocument ToDocument(ParsedResource p) => new(p.Resource, p.Yaml, p.Location.File, p.Location.Line);
}
