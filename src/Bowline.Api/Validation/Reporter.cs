using Bowline.Api.Yaml;

namespace Bowline.Api.Validation;

/// <summary>Collects diagnostics about one parsed resource, locating each field path through the document's source map.</summary>
internal sealed class Reporter(ParsedResource parsed, List<Diagnostic> sink, DiagnosticSeverity severity = DiagnosticSeverity.Error)
{
    private readonly SourceMap _map = SourceMap.For(parsed);

    public void Report(string path, string message) =>
        sink.Add(new Diagnostic(severity, parsed.Location.File, _map.LineOf(path), path, message));
}
