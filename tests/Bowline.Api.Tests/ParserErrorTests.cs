using Bowline.Api.Yaml;

namespace Bowline.Api.Tests;

public class ParserErrorTests
{
    private static string[] Parse(string yaml, string file = "test.yaml") =>
        ResourceParser.Parse(file, yaml).Diagnostics.Select(d => d.ToString()).ToArray();

    private const string DestinationRuleHead = """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata:
          name: reviews
        spec:
          host: reviews
        """;

    [Fact]
    public void Parse_MisspeltField_ReportsUnknownFieldAtItsLine()
    {
        var errors = Parse("""
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
                  weigth: 100
            """);
        Assert.Equal(["test.yaml:11: spec.http[0].route[0]: unknown field \"weigth\""], errors);
    }

    [Fact]
    public void Parse_BadDuration_ReportsExpectedSyntax()
    {
        var errors = Parse("""
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: reviews
            spec:
              hosts: [reviews]
              http:
              - timeout: 10 seconds
                route:
                - destination: {host: reviews}
            """);
        Assert.Equal(["test.yaml:8: spec.http[0].timeout: expected a duration like \"1.5s\" or \"100ms\", got \"10 seconds\""], errors);
    }

    [Theory]
    [InlineData("10", false)]
    [InlineData("-1s", false)]
    [InlineData("1.5", false)]
    [InlineData("s", false)]
    [InlineData("1x", false)]
    [InlineData("1.5s", true)]
    [InlineData("1h30m", true)]
    [InlineData("100ms", true)]
    [InlineData("250us", true)]
    [InlineData("0", true)]
    public void Durations_TryParse_FollowsGoSyntax(string text, bool valid) =>
        Assert.Equal(valid, Durations.TryParse(text, out _));

    [Fact]
    public void Durations_TryParse_AddsComponents()
    {
        Assert.True(Durations.TryParse("1h30m0.5s", out var value));
        Assert.Equal(TimeSpan.FromMinutes(90) + TimeSpan.FromMilliseconds(500), value);
    }

    [Fact]
    public void Parse_UnknownEnumValue_ListsIstioNames()
    {
        var errors = Parse(DestinationRuleHead + """

              trafficPolicy:
                loadBalancer:
                  simple: FASTEST
            """);
        Assert.Equal(["test.yaml:9: spec.trafficPolicy.loadBalancer.simple: expected one of UNSPECIFIED, RANDOM, PASSTHROUGH, ROUND_ROBIN, LEAST_REQUEST, LEAST_CONN, got \"FASTEST\""], errors);
    }

    [Fact]
    public void Parse_EnumWithDigits_AcceptsIstioSpelling()
    {
        var result = ResourceParser.Parse("gw.yaml", """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata:
              name: gw
            spec:
              servers:
              - port: {number: 443, name: https, protocol: HTTPS}
                hosts: ["*"]
                tls:
                  mode: SIMPLE
                  credentialName: cert
                  minProtocolVersion: TLSV1_2
                  maxProtocolVersion: TLSV1_4
            """);
        Assert.Equal(["gw.yaml:13: spec.servers[0].tls.maxProtocolVersion: expected one of TLS_AUTO, TLSV1_0, TLSV1_1, TLSV1_2, TLSV1_3, got \"TLSV1_4\""], result.Diagnostics.Select(d => d.ToString()));
    }

    [Fact]
    public void Parse_MappingWhereListExpected_ReportsShape()
    {
        var errors = Parse(DestinationRuleHead + """

              subsets:
                name: v1
            """);
        Assert.Equal(["test.yaml:8: spec.subsets: expected a list, got a mapping"], errors);
    }

    [Fact]
    public void Parse_DuplicateField_ReportsSecondOccurrence()
    {
        var errors = Parse("""
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: reviews
            spec:
              hosts: [reviews]
              hosts: [ratings]
              http:
              - route:
                - destination: {host: reviews}
            """);
        Assert.Equal(["test.yaml:7: spec: duplicate field \"hosts\""], errors);
    }

    [Fact]
    public void Parse_SeveralErrors_ReportsAllInOrder()
    {
        var errors = Parse("""
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata:
              name: reviews
            spec:
              host: reviews
              trafficPolicy:
                connectionPool:
                  tcp:
                    maxConnections: many
                    connectTimeout: 30
                outlierDetection:
                  splitExternalLocalOriginErrors: maybe
              subsets:
              - name: v1
                labels: [version]
            """);
        Assert.Equal(
            [
                "test.yaml:10: spec.trafficPolicy.connectionPool.tcp.maxConnections: expected an integer, got \"many\"",
                "test.yaml:11: spec.trafficPolicy.connectionPool.tcp.connectTimeout: expected a duration like \"1.5s\" or \"100ms\", got \"30\"",
                "test.yaml:13: spec.trafficPolicy.outlierDetection.splitExternalLocalOriginErrors: expected true or false, got \"maybe\"",
                "test.yaml:16: spec.subsets[0].labels: expected a mapping, got a list",
            ],
            errors);
    }

    [Fact]
    public void Parse_ErrorInSecondDocument_ReportsLineInWholeFile()
    {
        var result = ResourceParser.Parse("multi.yaml", """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata:
              name: reviews
            spec:
              host: reviews
            ---
            # the broken one

            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata:
              name: ratings
            spec:
              host: ratings
              subsets:
              - name: v1
                labels:
                  version: v1
              - name: v2
                lables:
                  version: v2
            """);
        Assert.Equal(["multi.yaml:21: spec.subsets[1]: unknown field \"lables\""], result.Diagnostics.Select(d => d.ToString()));
        var good = Assert.Single(result.Resources);
        Assert.Equal("reviews", good.Resource.Metadata.Name);
        Assert.Equal(new SourceLocation("multi.yaml", 1), good.Location);
    }

    [Fact]
    public void Parse_MultiDocument_KeepsEachDocumentsTextAndLine()
    {
        var result = ResourceParser.Parse("multi.yaml", """
            ---
            apiVersion: v1
            kind: ServiceAccount
            metadata:
              name: a
            ---

            ---
            # second
            apiVersion: v1
            kind: ServiceAccount
            metadata:
              name: b
            """);
        Assert.Empty(result.Diagnostics);
        Assert.Equal([2, 10], result.Resources.Select(r => r.Location.Line));
        Assert.Equal("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a\n", result.Resources[0].Yaml);
        Assert.Contains("name: b", result.Resources[1].Yaml, StringComparison.Ordinal);
        Assert.DoesNotContain("name: a", result.Resources[1].Yaml, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MissingApiVersionKindAndName_ReportsEach()
    {
        Assert.Equal(["test.yaml:1: apiVersion: required field is missing"], Parse("kind: VirtualService\nmetadata:\n  name: x\n"));
        Assert.Equal(["test.yaml:1: kind: required field is missing"], Parse("apiVersion: networking.istio.io/v1\nmetadata:\n  name: x\n"));
        Assert.Equal(["test.yaml:3: metadata.name: required field is missing"], Parse("apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  namespace: x\nspec: {}\n"));
    }

    [Fact]
    public void Parse_UnknownIstioKind_IsAnError()
    {
        Assert.Equal(
            ["test.yaml:1: unknown kind \"VirtualServic\" in networking.istio.io"],
            Parse("apiVersion: networking.istio.io/v1\nkind: VirtualServic\nmetadata:\n  name: x\n"));
    }

    [Fact]
    public void Parse_UnknownIstioVersion_IsAnError()
    {
        Assert.Equal(
            ["test.yaml:1: unknown apiVersion \"networking.istio.io/v2\" for VirtualService (expected networking.istio.io/v1, v1beta1 or v1alpha3)"],
            Parse("apiVersion: networking.istio.io/v2\nkind: VirtualService\nmetadata:\n  name: x\n"));
    }

    [Theory]
    [InlineData("v1", "VirtualService")]
    [InlineData("networking.istio.io", "DestinationRule")]
    [InlineData("networking.istio.io/v1alpha", "ServiceEntry")]
    [InlineData("v1", "Gateway")]
    public void Parse_IstioKindUnderWrongApiVersion_IsAnError(string apiVersion, string kind)
    {
        Assert.Equal(
            [$"test.yaml:1: unknown apiVersion \"{apiVersion}\" for {kind} (expected networking.istio.io/v1, v1beta1 or v1alpha3)"],
            Parse($"apiVersion: {apiVersion}\nkind: {kind}\nmetadata:\n  name: x\n"));
    }

    [Fact]
    public void Parse_KubernetesGatewayApiGateway_IsIgnoredWithWarning() =>
        Assert.Equal(
            ["test.yaml:1: Gateway (gateway.networking.k8s.io/v1) is not used by Bowline yet; ignored"],
            Parse("apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: x\n"));

    [Fact]
    public void Parse_UnknownKubernetesVersion_IsAnError() =>
        Assert.Equal(
            ["test.yaml:1: unknown apiVersion \"apps/v1beta2\" for Deployment (expected apps/v1)"],
            Parse("apiVersion: apps/v1beta2\nkind: Deployment\nmetadata:\n  name: x\n"));

    [Fact]
    public void Parse_KindFromOtherGroup_IsIgnoredWithWarning()
    {
        var result = ResourceParser.Parse("cm.yaml", """
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata:
              name: settings
            spec:
              storageClassName: standard
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata:
              name: deny
            """);
        Assert.Empty(result.Resources);
        Assert.All(result.Diagnostics, d => Assert.Equal(DiagnosticSeverity.Warning, d.Severity));
        Assert.Equal(
            ["cm.yaml:1: PersistentVolumeClaim (v1) is not used by Bowline yet; ignored", "cm.yaml:8: AuthorizationPolicy (security.istio.io/v1) is not used by Bowline yet; ignored"],
            result.Diagnostics.Select(d => d.ToString()));
    }

    [Fact]
    public void Parse_SyntaxError_ReportsLine()
    {
        var errors = Parse("""
            apiVersion: v1
            kind: ServiceAccount
            metadata:
              name: [a
            """);
        var error = Assert.Single(errors);
        Assert.StartsWith("test.yaml:", error, StringComparison.Ordinal);
        Assert.Contains("invalid YAML", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_StatusAndKubernetesExtras_AreIgnored()
    {
        var result = ResourceParser.Parse("svc.yaml", """
            apiVersion: v1
            kind: Service
            metadata:
              name: reviews
              uid: 1234
              creationTimestamp: null
            spec:
              sessionAffinity: None
              ports:
              - port: 9080
                targetPort: http
            status:
              loadBalancer: {}
            """);
        Assert.Empty(result.Diagnostics);
        var service = Assert.IsType<Bowline.Api.Resources.KubeService>(Assert.Single(result.Resources).Resource);
        Assert.Equal("http", service.Spec.Ports[0].TargetPort?.String);
    }

    [Fact]
    public void Parse_NullOptionalFields_KeepDefaults()
    {
        var result = ResourceParser.Parse("dr.yaml", DestinationRuleHead + """

              trafficPolicy: ~
              subsets: null
            """);
        Assert.Empty(result.Diagnostics);
    }

    [Fact]
    public void Parse_AnchorsAndAliases_AreResolved()
    {
        var result = ResourceParser.Parse("dr.yaml", DestinationRuleHead + """

              subsets:
              - name: v1
                labels: &labels
                  version: v1
              - name: v1-copy
                labels: *labels
            """);
        Assert.Empty(result.Diagnostics);
        var dr = Assert.IsType<Bowline.Api.Resources.DestinationRule>(Assert.Single(result.Resources).Resource);
        Assert.Equal("v1", dr.Spec.Subsets[1].Labels["version"]);
    }

    [Fact]
    public void Parse_EmptyOrCommentOnlyFile_YieldsNothing()
    {
        var result = ResourceParser.Parse("empty.yaml", "# nothing here\n---\n---\n");
        Assert.Empty(result.Resources);
        Assert.Empty(result.Diagnostics);
    }

    [Fact]
    public void Parse_DocumentThatIsNotAMapping_IsAnError() =>
        Assert.Equal(
            ["test.yaml:5: expected a Kubernetes object (a mapping with apiVersion, kind and metadata)"],
            Parse("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\n---\n- just\n- a list\n"));

    [Fact]
    public void Parse_NullListItem_IsAnError()
    {
        var errors = Parse("""
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: ext
            spec:
              hosts:
              - api.example.com
              -
              resolution: DNS_ROUND_ROBIN
            """);
        Assert.Equal(["test.yaml:8: spec.hosts[1]: expected a value, got null"], errors);
    }
}
