using Bowline.Api.Yaml;

namespace Bowline.Api.Validation;

public sealed record ValidationResult(IReadOnlyList<ParsedResource> Resources, IReadOnlyList<Diagnostic> Errors, IReadOnlyList<Diagnostic> Warnings)
{
    public bool IsValid => Errors.Count == 0;
}
