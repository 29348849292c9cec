using Bowline.Api.Management;
using Bowline.Api.Validation;

namespace Bowline.Api.Tests;

/// <summary>Helpers: validate inline YAML and render the diagnostics as the user would read them.</summary>
internal static class Diag
{
    public static ValidationResult Validate(string file, string content) =>
        ConfigValidator.Validate([new ConfigFile { Name = file, Content = content }]);

    public static string[] Errors(string file, string content) =>
        Validate(file, content).Errors.Select(e => e.ToString()).ToArray();
}
