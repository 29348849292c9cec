using Bowline.Api.Management;
using Bowline.Api.Validation;
using Bowline.Api.Yaml;

namespace Bowline.Api.Tests;

public class AnalyzeTests
{
    private const string World = """
        apiVersion: v1
        kind: Service
        metadata:
          name: reviews
        spec:
          ports:
          - port: 9080
            name: http
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: ratings
          namespace: prod
        spec:
          ports:
          - port: 9080
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata:
          name: reviews
        spec:
          host: reviews.default.svc.cluster.local
          subsets:
          - name: v1
            labels: {version: v1}
        ---
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata:
          name: bookinfo-gateway
          namespace: istio-system
        spec:
          selector: {istio: ingressgateway}
          servers:
          - port: {number: 8080, name: http, protocol: HTTP}
            hosts: ["*"]
        ---
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata:
          name: external
        spec:
          hosts: ["*.example.com"]
          ports:
          - {number: 443, name: https, protocol: TLS}
        """;

    private static string[] Analyze(string vs)
    {
        var result = ConfigValidator.Validate([new ConfigFile { Name = "world.yaml", Content = World }, new ConfigFile { Name = "vs.yaml", Content = vs }]);
        Assert.Empty(result.Errors);
        return ConfigValidator.Analyze(result.Resources).Select(d => d.ToString()).ToArray();
    }

    [Fact]
    public void Analyze_UnknownHost_WarnsAtDestination()
    {
        Assert.Equal(["vs.yaml:10: spec.http[0].route[0].destination.host: the host \"reviewz\" is not a known service (Service or ServiceEntry)"], Analyze("""
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: reviews
            spec:
              hosts: [reviews]
              http:
              - route:
                - destination:
                    host: reviewz
            """));
    }

    [Fact]
    public void Analyze_UndefinedSubset_NamesTheHost()
    {
        Assert.Equal(["vs.yaml:15: spec.http[0].route[1].destination.subset: subset \"v4\" is not defined by any DestinationRule for host reviews.default.svc.cluster.local"], Analyze("""
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: reviews
            spec:
              hosts: [reviews]
              http:
              - route:
                - destination:
                    host: reviews
                    subset: v1
                  weight: 50
                - destination:
                    host: reviews
                    subset: v4
                  weight: 50
            """));
    }

    [Fact]
    public void Analyze_MissingGateway_Warns()
    {
        Assert.Equal(
            [
                "vs.yaml:7: spec.gateways[0]: the gateway \"bookinfo-gw\" does not exist",
                "vs.yaml:8: spec.gateways[1]: the gateway \"bookinfo-gateway\" does not exist",
            ],
            Analyze("""
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata:
                  name: bookinfo
                spec:
                  hosts: ["*"]
                  gateways: [bookinfo-gw,
                    bookinfo-gateway, istio-system/bookinfo-gateway, mesh]
                  http:
                  - route:
                    - destination: {host: reviews}
                """));
    }

    [Theory]
    [InlineData("default", "reviews")]
    [InlineData("prod", "reviews.default")]
    [InlineData("prod", "reviews.default.svc")]
    [InlineData("prod", "reviews.default.svc.cluster.local")]
    [InlineData("prod", "ratings")]
    [InlineData("default", "api.example.com")]
    public void Analyze_ResolvableHost_IsNotWarned(string ns, string host)
    {
        Assert.Empty(Analyze($"""
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: vs
              namespace: {ns}
            spec:
              hosts: [x]
              tcp:
              - route:
                - destination: {"{"}host: {host}{"}"}
            """));
    }

    [Fact]
    public void Analyze_ShortNameFromOtherNamespace_IsWarned()
    {
        var warning = Assert.Single(Analyze("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: vs\nspec:\n  hosts: [x]\n  http:\n  - route:\n    - destination: {host: ratings}\n"));
        Assert.Equal("vs.yaml:9: spec.http[0].route[0].destination.host: the host \"ratings\" is not a known service (Service or ServiceEntry)", warning);
    }

    [Fact]
    public void Analyze_ReturnsWarnings()
    {
        var result = ConfigValidator.Validate([new ConfigFile { Name = "vs.yaml", Content = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: vs\nspec:\n  hosts: [x]\n  http:\n  - route:\n    - destination: {host: nowhere}\n" }]);
        Assert.All(ConfigValidator.Analyze(result.Resources), d => Assert.Equal(DiagnosticSeverity.Warning, d.Severity));
    }
}
