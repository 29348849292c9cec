using Bowline.EndToEnd.Tests.Infrastructure;

namespace Bowline.EndToEnd.Tests;

/// <summary>`bowline validate` as a user runs it: exit codes and the exact messages.</summary>
public sealed class ValidateCommandTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("bowline-validate-").FullName;

    [Fact]
    public async Task Validate_BookinfoSampleAndNetworking_ExitsZero()
    {
        var sample = await CliRun.RunAsync(_home, TimeSpan.FromMinutes(1), "validate", "-f", Repo.Sample("bookinfo"));
        var networking = await CliRun.RunAsync(_home, TimeSpan.FromMinutes(1), "validate", "-f", Path.Combine(Repo.Sample("bookinfo"), "networking"));

        Assert.True(sample.ExitCode == 0, sample.ToString());
        Assert.True(networking.ExitCode == 0, networking.ToString());
    }

    [Fact]
    public async Task Validate_FileWithSeveralMistakes_ExitsOneWithEveryMessage()
    {
        var file = Path.Combine(_home, "reviews.yaml");
        await File.WriteAllTextAsync(file, """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: reviews
            spec:
              hosts:
              - reviews
              http:
              - timeout: 10 seconds
                route:
                - destination:
                    host: reviews
                    subset: v1
                  weight: 60
                - destination:
                    host: reviews
                    subset: v2
                  weigth: 40
            """);

        var result = await CliRun.RunAsync(_home, TimeSpan.FromMinutes(1), "validate", "-f", file);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{file}:9: spec.http[0].timeout: expected a duration like \"1.5s\" or \"100ms\", got \"10 seconds\"", result.Stderr);
        Assert.Contains($"{file}:18: spec.http[0].route[1]: unknown field \"weigth\"", result.Stderr);
    }

    public void Dispose() => Directory.Delete(_home, recursive: true);
}
