using Bowline.Api.Management;

namespace Bowline.Cli.Validate;

/// <summary>The one seam between <c>bowline validate</c> and the shared validator in Bowline.Api.</summary>
internal static class OfflineValidation
{
    public static ApplyResult Run(IReadOnlyList<ConfigFile> files)
    {
        // TODO(merge): call Bowline.Api.Validation (e.g. ConfigValidator.Validate(files)) and map its messages here.
        _ = files;
        return new ApplyResult { Errors = ["error: validation is not available in this build"] };
    }
}
