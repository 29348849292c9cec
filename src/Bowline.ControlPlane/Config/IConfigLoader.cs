using Bowline.Api.Management;
using Bowline.Api.Resources;

namespace Bowline.ControlPlane.Config;

/// <summary>One YAML document turned into a resource, with its own text and where it came from.</summary>
internal sealed record LoadedDocument(Resource Resource, string Yaml, string File, int Line);

/// <summary>Outcome of reading files: documents in file order, and messages already formatted "file:line: path: message".</summary>
internal sealed record LoadResult(IReadOnlyList<LoadedDocument> Documents, IReadOnlyList<string> Errors, IReadOnlyList<string> Warnings);

/// <summary>A cross-resource finding of the analyzer, with the file it points at (to tell whose it is).</summary>
internal sealed record Finding(string File, string Text);

/// <summary>
/// The seam between the store and the YAML parser/validator of Bowline.Api: the store only needs these three operations,
/// and tests can supply resources built in code.
/// </summary>
internal interface IConfigLoader
{
    /// <summary>Parse and validate (apply): any error refuses the whole request.</summary>
    LoadResult Validate(IReadOnlyList<ConfigFile> files);

    /// <summary>Parse only (delete needs just the keys, as kubectl delete -f).</summary>
    LoadResult Parse(IReadOnlyList<ConfigFile> files);

    /// <summary>Cross-resource warnings (unknown subsets, gateways, hosts) over a whole world.</summary>
    IReadOnlyList<Finding> Analyze(IReadOnlyList<StoredResource> world);
}
