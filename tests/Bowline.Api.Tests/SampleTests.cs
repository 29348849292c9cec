using Bowline.Api.Management;
using Bowline.Api.Resources;
using Bowline.Api.Validation;

namespace Bowline.Api.Tests;

/// <summary>Istio's own samples (bookinfo, httpbin) must load cleanly: they are what users start from.</summary>
public class SampleTests
{
    public static TheoryData<string> Samples => new(Directory.GetFiles(DataDir, "*.yaml").Select(Path.GetFileName).OfType<string>().Order());

    private static readonly string[] BookinfoWorld =
        ["bookinfo.yaml", "destination-rule-all.yaml", "virtual-service-all-v1.yaml", "bookinfo-gateway.yaml", "httpbin-ext-serviceentry.yaml"];

    private static string DataDir => Path.Combine(AppContext.BaseDirectory, "TestData");

    private static ConfigFile Load(string name) => new() { Name = name, Content = File.ReadAllText(Path.Combine(DataDir, name)) };

    [Theory]
    [MemberData(nameof(Samples))]
    public void Validate_IstioSample_HasNoErrorsAndWarnsOnlyOfFeaturesNotSupportedYet(string name)
    {
        var result = ConfigValidator.Validate([Load(name)]);
        Assert.Empty(result.Errors.Select(e => e.ToString()));
        Assert.All(result.Warnings.Select(e => e.ToString()), w => Assert.Contains("not supported", w, StringComparison.Ordinal));
        Assert.True(result.IsValid);
        Assert.NotEmpty(result.Resources);
    }

    [Fact]
    public void Validate_Bookinfo_BindsKubernetesKinds()
    {
        var result = ConfigValidator.Validate([Load("bookinfo.yaml")]);
        var kinds = result.Resources.GroupBy(r => r.Resource.Kind).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(4, kinds["Service"]);
        Assert.Equal(4, kinds["ServiceAccount"]);
        Assert.Equal(5, kinds["Deployment"]);
        var reviewsV2 = result.Resources.Select(r => r.Resource).OfType<Deployment>().Single(d => d.Metadata.Name == "reviews-v2");
        Assert.Equal("python3 reviews.py --version v2", reviewsV2.Spec.Template.Metadata.Annotations["bowline.io/command"]);
        Assert.Equal("v2", reviewsV2.Spec.Template.Metadata.Labels["version"]);
        Assert.Equal("bookinfo-reviews", reviewsV2.Spec.Template.Spec.ServiceAccountName);
        var container = Assert.Single(reviewsV2.Spec.Template.Spec.Containers);
        Assert.Equal(9080, Assert.Single(container.Ports).ContainerPort);
        Assert.Equal("/tmp/logs", Assert.Single(container.Env).Value);
        var details = result.Resources.Select(r => r.Resource).OfType<KubeService>().Single(s => s.Metadata.Name == "details");
        Assert.Equal(new ResourceKey("Service", "default", "details"), details.Key());
        Assert.Equal(9080, Assert.Single(details.Spec.Ports).Port);
    }

    [Fact]
    public void Validate_MtlsAndCircuitBreaker_BindEnumsAndDurations()
    {
        var mtls = (DestinationRule)ConfigValidator.Validate([Load("destination-rule-all-mtls.yaml")]).Resources[0].Resource;
        Assert.Equal(ClientTlsMode.IstioMutual, mtls.Spec.TrafficPolicy?.Tls?.Mode);
        var breaker = (DestinationRule)ConfigValidator.Validate([Load("httpbin-circuit-breaker.yaml")]).Resources[0].Resource;
        Assert.Equal(TimeSpan.FromMinutes(3), breaker.Spec.TrafficPolicy?.OutlierDetection?.BaseEjectionTime);
        Assert.Equal(1, breaker.Spec.TrafficPolicy?.ConnectionPool?.Http?.Http1MaxPendingRequests);
        Assert.Equal(1, breaker.Spec.TrafficPolicy?.OutlierDetection?.Consecutive5xxErrors);
    }

    [Fact]
    public void Validate_ServiceEntry_BindsResolutionAndLocation()
    {
        var se = ConfigValidator.Validate([Load("httpbin-ext-serviceentry.yaml")]).Resources.Select(r => r.Resource).OfType<ServiceEntry>().Single();
        Assert.Equal(ServiceEntryResolution.Dns, se.Spec.Resolution);
        Assert.Equal(ServiceEntryLocation.MeshExternal, se.Spec.Location);
    }

    [Fact]
    public void Analyze_BookinfoWorld_HasNoWarnings()
    {
        var world = ConfigValidator.Validate(BookinfoWorld.Select(Load)).Resources;
        Assert.Empty(ConfigValidator.Analyze(world).Select(d => d.ToString()));
    }

    [Fact]
    public void Validate_SameResourceInTwoSamples_IsDuplicate()
    {
        var result = ConfigValidator.Validate([Load("virtual-service-reviews-test-v2.yaml"), Load("virtual-service-reviews-50-v3.yaml")]);
        Assert.Equal(
            ["virtual-service-reviews-50-v3.yaml:4: metadata.name: VirtualService default/reviews is defined twice (first at virtual-service-reviews-test-v2.yaml:1)"],
            result.Errors.Select(e => e.ToString()));
    }
    [Fact]
    public void Validate_TcpEchoSample_NoErrorsNoWarnings()
    {
        var dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "Bowline.slnx")))
        {
            dir = Path.GetDirectoryName(dir) ?? throw new InvalidOperationException("repository root not found");
        }

        var sample = Path.Combine(dir, "samples", "tcp-echo");
        var files = Directory.GetFiles(sample, "*.yaml", SearchOption.AllDirectories).Order()
            .Select(f => new ConfigFile { Name = Path.GetFileName(f), Content = File.ReadAllText(f) }).ToList();

        Assert.Equal(3, files.Count);
        foreach (var file in files)
        {
            var result = ConfigValidator.Validate([file]);
            Assert.Empty(result.Errors.Select(e => e.ToString()));
            Assert.Empty(result.Warnings.Select(e => e.ToString()));
        }
    }
}
