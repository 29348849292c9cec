namespace Bowline.Api.Yaml;

public enum DiagnosticSeverity
{
    Error,
    Warning,
}

/// <summary>One message about the user's YAML, located at the offending node: "reviews.yaml:14: spec.http[0].route[0].weight: expected an integer, got \"ten\"".</summary>
public sealed record Diagnostic(DiagnosticSeverity Severity, string File, int Line, string Path, string Message)
{
    public override string ToString() =>
        Path.Length == 0 ? $"{File}:{Line}: {Message}" : $"{File}:{Line}: {Path}: {Message}";
}

public readonly record struct SourceLocation(string File, int Line);
