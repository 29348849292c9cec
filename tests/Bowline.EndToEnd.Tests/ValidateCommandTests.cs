using Bowline.EndToEnd.Tests.Infrastructure;

namespace Bowline.EndToEnd.Tests;

/// <summary>`bowline validate` as a user runs it: exit codes and the exact messages.</summary>
public sealed class ValidateCommandTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("bowline-validate-").FullName;

    [Fact]
    public async Task Validate_BookinfoSampleAndEachNetworkingTask_ExitsZero()
    {
        var sample = await CliRun.RunAsync(_home, TimeSpan.FromMinutes(1), "validate", "-f", Repo.Sample("bookinfo"));
        Assert.True(sample.ExitCode == 0, sample.ToString());

        // The tasks are alternatives applied one at a time (several define VirtualService reviews), so each is its own set.
        foreach (var task in Directory.GetFiles(Path.Combine(Repo.Sample("bookinfo"), "networking"), "*.yaml"))
        {
            var result = await CliRun.RunAsync(_home, TimeSpan.FromMinutes(1), "validate", "-f", task);
            Assert.True(result.ExitCode == 0, $"{task}: {result}");
        }
    }

    [Fact]
    public async Task Validate_NetworkingFolderAsOneSet_RefusesTheDuplicateNamesWithBothPlaces()
    {
        var networking = Path.Combine(Repo.Sample("bookinfo"), "networking");

        var result = await CliRun.RunAsync(_home, TimeSpan.FromMinutes(1), "validate", "-f", networking);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(
            $"{networking}/virtual-service-reviews-50-v3.yaml:5: metadata.name: VirtualService default/reviews is defined twice (first at {networking}/virtual-service-all-v1.yaml:16)",
            result.Stderr);
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
