using Bowline.Api.Management;
using Bowline.Api.Validation;

namespace Bowline.Cli.Validate;

/// <summary>The one seam between <c>bowline validate</c> and the shared validator in Bowline.Api.</summary>
internal static class OfflineValidation
{
    /// <remarks>
    /// Like <c>istioctl validate</c>, this checks each resource and duplicates across the set; cross-references
    /// (subsets, gateways, hosts) need the whole mesh, so the control plane reports those on apply.
    /// </remarks>
    public static ApplyResult Run(IReadOnlyList<ConfigFile> files)
    {
        var result = ConfigValidator.Validate(files);
        return new ApplyResult
        {
            Errors = [.. result.Errors.Select(d => d.ToString())],
            Warnings = [.. result.Warnings.Select(d => d.ToString())],
        };
    }
}
