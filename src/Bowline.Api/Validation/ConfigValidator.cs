using Bowline.Api.Management;
using Bowline.Api.Resources;
using Bowline.Api.Yaml;

namespace Bowline.Api.Validation;

/// <summary>What Istio's validation webhook / istioctl validate would refuse, and what istioctl analyze would warn about.</summary>
public static class ConfigValidator
{
    /// <summary>Parse + per-resource validation of a set of files applied together (duplicates across the set are errors).</summary>
    public static ValidationResult Validate(IEnumerable<ConfigFile> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var resources = new List<ParsedResource>();
        var diagnostics = new List<Diagnostic>();
        foreach (var file in files)
        {
            var parsed = ResourceParser.Parse(file.Name, file.Content);
            resources.AddRange(parsed.Resources);
            diagnostics.AddRange(parsed.Diagnostics);
        }
        foreach (var resource in resources)
        {
            ResourceRules.Check(resource, new Reporter(resource, diagnostics));
            NotYetSupported.Check(resource.Resource, new Reporter(resource, diagnostics, DiagnosticSeverity.Warning));
        }
        CheckDuplicates(resources, diagnostics);
        return new ValidationResult(
            resources,
            diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList(),
            diagnostics.Where(d => d.Severity == DiagnosticSeverity.Warning).ToList());
    }

    /// <summary>Cross-reference warnings over a whole config (what istioctl analyze says), located at the referencing resource.</summary>
    public static IReadOnlyList<Diagnostic> Analyze(IReadOnlyList<ParsedResource> world)
    {
        ArgumentNullException.ThrowIfNull(world);
        return ConfigAnalyzer.Analyze(world);
    }

    private static void CheckDuplicates(List<ParsedResource> resources, List<Diagnostic> diagnostics)
    {
        var first = new Dictionary<ResourceKey, ParsedResource>();
        foreach (var resource in resources)
        {
            var key = resource.Resource.Key();
            if (!first.TryAdd(key, resource))
            {
                var original = first[key].Location;
                new Reporter(resource, diagnostics).Report("metadata.name", $"{key} is defined twice (first at {original.File}:{original.Line})");
            }
        }
    }
}
