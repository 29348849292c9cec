using Bowline.Api.Resources;
using Bowline.Api.Yaml;

namespace Bowline.Api.Tests;

public class ResourceParserTests
{
    [Fact]
    public void Parse_BadWeight_ReportsFileLinePathAndValue()
    {
        const string yaml = """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: reviews
            spec:
              hosts:
              - reviews
              http:
              - route:
                - destination:
                    host: reviews
                    subset: v1
                  weight: ten
            """;
        var result = ResourceParser.Parse("reviews.yaml", yaml);
        Assert.Equal(["reviews.yaml:13: spec.http[0].route[0].weight: expected an integer, got \"ten\""], result.Diagnostics.Select(d => d.ToString()));
        Assert.Empty(result.Resources);
    }

    [Fact]
    public void Parse_ValidVirtualService_BindsTypedModel()
    {
        const string yaml = """
            apiVersion: networking.istio.io/v1beta1
            kind: VirtualService
            metadata:
              name: reviews
              namespace: bookinfo
            spec:
              hosts: [reviews]
              http:
              - timeout: 1.5s
                route:
                - destination: {host: reviews, subset: v1}
                  weight: 75
                - destination: {host: reviews, subset: v2}
                  weight: 25
            """;
        var result = ResourceParser.Parse("r.yaml", yaml);
        Assert.Empty(result.Diagnostics);
        var parsed = Assert.Single(result.Resources);
        var vs = Assert.IsType<VirtualService>(parsed.Resource);
        Assert.Equal(new ResourceKey("VirtualService", "bookinfo", "reviews"), vs.Key());
        Assert.Equal("VirtualService bookinfo/reviews", vs.Key().ToString());
        Assert.Equal(TimeSpan.FromMilliseconds(1500), vs.Spec.Http[0].Timeout);
        Assert.Equal(25, vs.Spec.Http[0].Route[1].Weight);
        Assert.Equal(new SourceLocation("r.yaml", 1), parsed.Location);
        Assert.Equal(yaml + "\n", parsed.Yaml);
    }
}
