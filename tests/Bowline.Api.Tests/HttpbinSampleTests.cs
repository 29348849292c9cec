using Bowline.Api.Management;
using Bowline.Api.Validation;

namespace Bowline.Api.Tests;

/// <summary>Bowline's samples/httpbin YAML (what users copy) loads with no error and no warning.</summary>
public sealed class HttpbinSampleTests
{
    private static string SampleDir
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Bowline.slnx")))
                {
                    return Path.Combine(dir.FullName, "samples", "httpbin");
                }
            }

            throw new InvalidOperationException("Bowline.slnx not found above " + AppContext.BaseDirectory);
        }
    }

    public static TheoryData<string> Files => new(
        Directory.GetFiles(SampleDir, "*.yaml", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(SampleDir, f)).Order());

    [Theory]
    [MemberData(nameof(Files))]
    public void Validate_SampleFile_IsCleanOnItsOwn(string file)
    {
        var result = ConfigValidator.Validate([new ConfigFile { Name = file, Content = File.ReadAllText(Path.Combine(SampleDir, file)) }]);

        Assert.Empty(result.Errors.Select(e => e.ToString()));
        Assert.Empty(result.Warnings.Select(e => e.ToString()));
        Assert.NotEmpty(result.Resources);
    }
}
