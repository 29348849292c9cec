using Bowline.Api.Resources;

namespace Bowline.Api.Tests;

public sealed class TelemetryValidationTests
{
    private const string MeshConfigMap = """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: istio
          namespace: istio-system
        data:
          mesh: |
            accessLogFile: /dev/stdout
            accessLogEncoding: JSON
            enableTracing: true
            defaultConfig:
              tracing:
                sampling: 100
            extensionProviders:
            - name: otel
              opentelemetry:
                service: 127.0.0.1
                port: 4318
                http:
                  path: /v1/traces
            - name: zipkin
              zipkin:
                service: zipkin.istio-system.svc.cluster.local
                port: 9411
            defaultProviders:
              tracing: [otel]
        """;

    [Fact]
    public void ObservabilitySamples_ValidTogetherWithoutWarnings()
    {
        var dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "Bowline.slnx")))
        {
            dir = Path.GetDirectoryName(dir)!;
        }

        var samples = Path.Combine(dir, "samples", "bookinfo", "observability");
        var files = Directory.GetFiles(samples, "*.yaml").Order(StringComparer.Ordinal)
            .Select(f => new Management.ConfigFile { Name = Path.GetFileName(f), Content = File.ReadAllText(f) }).ToList();
        var result = Validation.ConfigValidator.Validate(files);

        Assert.Equal(2, files.Count);
        Assert.Empty(result.Errors.Select(e => e.ToString()));
        Assert.Empty(result.Warnings.Select(e => e.ToString()));
        Assert.Empty(Validation.ConfigValidator.Analyze(result.Resources).Select(e => e.ToString()));
    }

    [Fact]
    public void MeshConfigMap_ParsesEmbeddedMeshConfig()
    {
        var result = Diag.Validate("mesh.yaml", MeshConfigMap);

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Empty(result.Warnings);
        var configMap = Assert.IsType<ConfigMap>(Assert.Single(result.Resources).Resource);
        var mesh = configMap.Mesh!;
        Assert.Equal("/dev/stdout", mesh.AccessLogFile);
        Assert.Equal(AccessLogEncoding.Json, mesh.AccessLogEncoding);
        Assert.Equal(100, mesh.DefaultConfig!.Tracing!.Sampling);
        Assert.Equal(["otel", "zipkin"], mesh.ExtensionProviders.Select(p => p.Name));
        Assert.Equal("/v1/traces", mesh.ExtensionProviders[0].Opentelemetry!.Http!.Path);
        Assert.Equal(["otel"], mesh.DefaultProviders!.Tracing);
    }

    [Fact]
    public void MeshConfigMap_ErrorsInsideTheLiteralBlock_AreAtTheirFileLines()
    {
        Assert.Equal(
            ["mesh.yaml:9: data.mesh.accessLogEncoding: expected one of TEXT, JSON, got \"XML\""],
            Diag.Errors("mesh.yaml", MeshConfigMap.Replace("accessLogEncoding: JSON", "accessLogEncoding: XML", StringComparison.Ordinal)));

        var yaml = MeshConfigMap
            .Replace("sampling: 100", "sampling: 120", StringComparison.Ordinal)
            .Replace("port: 9411", "port: 0", StringComparison.Ordinal)
            .Replace("tracing: [otel]", "tracing: [jaeger]", StringComparison.Ordinal);
        Assert.Equal(
            [
                "mesh.yaml:13: data.mesh.defaultConfig.tracing.sampling: percentage 120 is out of range 0-100",
                "mesh.yaml:24: data.mesh.extensionProviders[1].zipkin.port: required field is missing",
                "mesh.yaml:26: data.mesh.defaultProviders.tracing[0]: extension provider \"jaeger\" is not defined in extensionProviders",
            ],
            Diag.Errors("mesh.yaml", yaml));
    }

    [Fact]
    public void MeshConfigMap_QuotedMesh_ErrorsAtTheMeshKey()
    {
        Assert.Equal(
            ["m.yaml:5: data.mesh.accessLogFormat: command operator %NOPE% is not supported by Bowline"],
            Diag.Errors("m.yaml", """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: istio, namespace: istio-system}
                data:
                  mesh: "accessLogFile: /dev/stdout\naccessLogFormat: '%NOPE%'\n"
                """));
    }

    [Fact]
    public void MeshConfigMap_BadJsonFormat_IsRefused()
    {
        Assert.Equal(
            ["m.yaml:8: data.mesh.accessLogFormat: field \"code\": command operator %RESPONSE_CODEX% is not supported by Bowline"],
            Diag.Errors("m.yaml", """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: istio, namespace: istio-system}
                data:
                  mesh: |-
                    accessLogFile: /tmp/a.log
                    accessLogEncoding: JSON
                    accessLogFormat: '{"code": "%RESPONSE_CODEX%"}'
                """));
    }

    [Fact]
    public void OtherConfigMaps_AreKeptUnparsed()
    {
        var result = Diag.Validate("c.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: app-settings}
            data:
              mesh: "not: [a mesh"
            """);

        Assert.True(result.IsValid);
        Assert.Null(Assert.IsType<ConfigMap>(Assert.Single(result.Resources).Resource).Mesh);
    }

    [Theory]
    [InlineData("telemetry.istio.io/v1")]
    [InlineData("telemetry.istio.io/v1alpha1")]
    public void Telemetry_Valid_Parses(string apiVersion)
    {
        var result = Diag.Validate("t.yaml", $$$"""
            apiVersion: {{{apiVersion}}}
            kind: Telemetry
            metadata: {name: reviews, namespace: default}
            spec:
              selector:
                matchLabels: {app: reviews}
              tracing:
              - providers: [{name: otel}]
                randomSamplingPercentage: 10.5
                disableSpanReporting: false
                customTags:
                  team: {literal: {value: bookinfo}}
              accessLogging:
              - providers: [{name: envoy}]
                disabled: false
            """);

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        var telemetry = Assert.IsType<Telemetry>(Assert.Single(result.Resources).Resource);
        Assert.Equal(10.5, telemetry.Spec.Tracing[0].RandomSamplingPercentage);
        Assert.Equal("bookinfo", telemetry.Spec.Tracing[0].CustomTags["team"].Literal!.Value);
    }

    [Fact]
    public void Telemetry_Invalid_LocatedErrors()
    {
        Assert.Equal(
            [
                "t.yaml:6: spec.tracing[0].randomSamplingPercentage: percentage 200 is out of range 0-100",
                "t.yaml:8: spec.tracing[0].customTags.bad: exactly one of literal, environment or header must be set",
            ],
            Diag.Errors("t.yaml", """
                apiVersion: telemetry.istio.io/v1
                kind: Telemetry
                metadata: {name: mesh-default, namespace: istio-system}
                spec:
                  tracing:
                  - randomSamplingPercentage: 200
                    customTags:
                      bad: {}
                """).OrderBy(e => e, StringComparer.Ordinal));
    }

    [Fact]
    public void Telemetry_UnknownKindInGroup_IsRefused()
    {
        Assert.Equal(
            ["t.yaml:1: unknown kind \"Telemetri\" in telemetry.istio.io"],
            Diag.Errors("t.yaml", """
                apiVersion: telemetry.istio.io/v1
                kind: Telemetri
                metadata: {name: x}
                """));
    }

    [Fact]
    public void Telemetry_NotYetSupportedFields_Warn()
    {
        var result = Diag.Validate("t.yaml", """
            apiVersion: telemetry.istio.io/v1
            kind: Telemetry
            metadata: {name: x, namespace: default}
            spec:
              tracing:
              - match: {mode: CLIENT}
                customTags:
                  env: {environment: {name: HOME}}
              accessLogging:
              - filter: {expression: "response.code >= 400"}
            """);

        Assert.True(result.IsValid);
        Assert.Equal(
            [
                "t.yaml:6: spec.tracing[0].match.mode: only CLIENT_AND_SERVER is supported by Bowline yet; this entry applies to both sides",
                "t.yaml:8: spec.tracing[0].customTags.env: only literal custom tags are supported by Bowline yet; this tag is ignored",
                "t.yaml:10: spec.accessLogging[0].filter: not supported by Bowline yet; ignored",
            ],
            result.Warnings.Select(w => w.ToString()));
    }

    [Fact]
    public void Analyze_TelemetryNamingAnUndefinedProvider_Warns()
    {
        var world = Diag.Validate("all.yaml", MeshConfigMap + """

            ---
            apiVersion: telemetry.istio.io/v1
            kind: Telemetry
            metadata: {name: mesh-default, namespace: istio-system}
            spec:
              tracing:
              - providers: [{name: otel}, {name: jaeger}]
              accessLogging:
              - providers: [{name: envoy}]
            """).Resources;

        Assert.Equal(
            ["all.yaml:33: spec.tracing[0].providers[1].name: extension provider \"jaeger\" is not defined in the mesh config (ConfigMap istio-system/istio, data.mesh.extensionProviders)"],
            Validation.ConfigValidator.Analyze(world).Select(w => w.ToString()));
    }

    [Fact]
    public void Analyze_TwoNamespaceWideTelemetries_WarnsAtTheSecond()
    {
        var world = Diag.Validate("t.yaml", """
            apiVersion: telemetry.istio.io/v1
            kind: Telemetry
            metadata: {name: a, namespace: default}
            spec:
              tracing: [{randomSamplingPercentage: 1}]
            ---
            apiVersion: telemetry.istio.io/v1
            kind: Telemetry
            metadata: {name: b, namespace: default}
            spec:
              tracing: [{randomSamplingPercentage: 2}]
            ---
            apiVersion: telemetry.istio.io/v1
            kind: Telemetry
            metadata: {name: c, namespace: default}
            spec:
              selector: {matchLabels: {app: reviews}}
            """).Resources;

        Assert.Equal(
            ["t.yaml:9: metadata.name: namespace default already has a Telemetry without selector (a at t.yaml:1); only the first created applies"],
            Validation.ConfigValidator.Analyze(world).Select(w => w.ToString()));
    }
}
