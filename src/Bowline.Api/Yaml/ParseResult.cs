using Bowline.Api.Resources;

namespace Bowline.Api.Yaml;

/// <summary>One YAML document turned into a typed resource; Yaml is that document's own source text (so a store can persist it verbatim).</summary>
public sealed record ParsedResource(Resource Resource, SourceLocation Location, string Yaml);

public sealed record ParseResult(IReadOnlyList<ParsedResource> Resources, IReadOnlyList<Diagnostic> Diagnostics);
