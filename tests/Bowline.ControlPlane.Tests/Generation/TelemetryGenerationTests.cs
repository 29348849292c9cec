using Bowline.Api.Xds;
using Bowline.ControlPlane.Generation;

namespace Bowline.ControlPlane.Tests.Generation;

public sealed class TelemetryGenerationTests
{
    private const string Mesh = """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: istio, namespace: istio-system}
        data:
          mesh: |
            meshId: mesh1
            defaultConfig:
              tracing:
                sampling: 5
            extensionProviders:
            - name: otel
              opentelemetry:
                service: 127.0.0.1
                port: 4318
                http: {path: /v1/traces}
            - name: zipkin
              zipkin: {service: 127.0.0.1, port: 9411}
            - name: file
              envoyFileAccessLog: {path: /tmp/bowline-access.log}
            defaultProviders:
              tracing: [otel]
        """;

    private static TelemetryConfig? For(string pod, params string[] yaml) =>
        ProxyConfigGenerator.Generate(Bookinfo.Snapshot([Bookinfo.All, .. yaml]), Bookinfo.Registry(), Bookinfo.Pods.Single(p => p.Name == pod)).Config.Telemetry;

    private static string Telemetry(string name, string ns, string spec, string? selector = null) => $"""
        apiVersion: telemetry.istio.io/v1
        kind: Telemetry
        metadata: {"{"}name: {name}, namespace: {ns}{"}"}
        spec:
        {(selector is null ? "" : $"  selector: {{matchLabels: {selector}}}\n")}{spec}
        """;

    [Fact]
    public void NoMeshConfigNoTelemetry_NoSection_VersionAsBefore()
    {
        var generated = ProxyConfigGenerator.Generate(Bookinfo.Snapshot(Bookinfo.All), Bookinfo.Registry(), Bookinfo.PodNamed("reviews-v1-0"));

        Assert.Null(generated.Config.Telemetry);
        Assert.Equal(ConfigVersion.Of(generated.Config with { Telemetry = null }), generated.Version);
    }

    [Fact]
    public void MeshDefaults_DefaultProviderAndSampling_AccessLogOff()
    {
        var telemetry = For("reviews-v2-0", Mesh)!;

        Assert.Null(telemetry.AccessLog);
        var tracing = telemetry.Tracing!;
        Assert.Equal(TracingProvider.OpenTelemetry, tracing.Provider);
        Assert.Equal("http://127.0.0.1:4318/v1/traces", tracing.Endpoint);
        Assert.Equal(5, tracing.SamplingPercentage);
        Assert.Equal("reviews", tracing.CanonicalService);
        Assert.Equal("v2", tracing.CanonicalRevision);
        Assert.Equal("mesh1", tracing.MeshId);
        Assert.Equal("reviews.default.svc.cluster.local:9080", tracing.InboundServices[9080]);
    }

    [Fact]
    public void AccessLogFile_TurnsOnEnvoysLogForEveryProxy()
    {
        var mesh = Mesh.Replace("meshId: mesh1", "meshId: mesh1\n    accessLogFile: /dev/stdout\n    accessLogEncoding: JSON", StringComparison.Ordinal);

        var log = For("istio-ingressgateway-0", mesh)!.AccessLog!;
        Assert.Equal(new AccessLogConfig { Path = "/dev/stdout", Encoding = LogEncoding.Json }, log);
    }

    [Fact]
    public void Precedence_WorkloadOverNamespaceOverRoot()
    {
        var root = Telemetry("mesh-default", "istio-system", """
              tracing:
              - randomSamplingPercentage: 10
                customTags: {team: {literal: {value: mesh}}}
              accessLogging:
              - providers: [{name: file}]
            """);
        var ns = Telemetry("ns", "default", """
              tracing:
              - providers: [{name: zipkin}]
                randomSamplingPercentage: 20
            """);
        var workload = Telemetry("reviews", "default", """
              tracing:
              - randomSamplingPercentage: 100
                customTags: {team: {literal: {value: reviews}}}
              accessLogging:
              - disabled: true
            """, selector: "{app: reviews}");

        var reviews = For("reviews-v1-0", Mesh, root, ns, workload)!;
        Assert.Null(reviews.AccessLog);
        Assert.Equal(TracingProvider.Zipkin, reviews.Tracing!.Provider);
        Assert.Equal("http://127.0.0.1:9411/api/v2/spans", reviews.Tracing.Endpoint);
        Assert.Equal(100, reviews.Tracing.SamplingPercentage);
        Assert.Equal("reviews", reviews.Tracing.CustomTags["team"]);

        var ratings = For("ratings-v1-0", Mesh, root, ns, workload)!;
        Assert.Equal("/tmp/bowline-access.log", ratings.AccessLog!.Path);
        Assert.Equal(20, ratings.Tracing!.SamplingPercentage);
        Assert.Equal("mesh", ratings.Tracing.CustomTags["team"]);

        // The gateway lives in the root namespace: only the mesh-wide Telemetry applies.
        var gateway = For("istio-ingressgateway-0", Mesh, root, ns, workload)!;
        Assert.Equal(10, gateway.Tracing!.SamplingPercentage);
        Assert.Equal(TracingProvider.OpenTelemetry, gateway.Tracing.Provider);
        Assert.Equal("istio-ingressgateway", gateway.Tracing.CanonicalService);
    }

    [Fact]
    public void EnableTracingFalse_NoTracingUnlessATelemetryNamesAProvider()
    {
        var off = Mesh.Replace("meshId: mesh1", "meshId: mesh1\n    enableTracing: false", StringComparison.Ordinal);

        Assert.Null(For("reviews-v1-0", off));
        var on = Telemetry("t", "default", "  tracing:\n  - providers: [{name: otel}]");
        Assert.NotNull(For("reviews-v1-0", off, on)!.Tracing);
    }

    [Fact]
    public void Compose_WithTelemetry_SameVersionAsWholeConfig_AndDeltaCarriesIt()
    {
        var before = Bookinfo.Snapshot(Bookinfo.All);
        var after = Bookinfo.Snapshot(Bookinfo.All, Mesh);
        var registry = Bookinfo.Registry();
        foreach (var pod in registry.Pods)
        {
            var whole = ProxyConfigGenerator.Generate(after, registry, pod);
            var composed = new MeshView(MeshModel.Build(after, registry), (2, 1)).Compose(pod);
            Assert.Equal(whole.Version, composed.Version);
            Assert.Equal(ConfigVersion.Of(whole.Config), composed.Version);
            Assert.NotNull(composed.Telemetry);

            // Only telemetry changed: an empty delta, whose result (with the telemetry it carries) has the new version.
            var old = new MeshView(MeshModel.Build(before, registry), (1, 1)).Compose(pod);
            var delta = DeltaParts.Diff(old, composed)!;
            Assert.Empty(delta.Listeners);
            Assert.Empty(delta.Clusters);
            var applied = new ConfigDelta { BaseVersion = old.Version, Telemetry = whole.Config.Telemetry }
                .ApplyTo(ProxyConfigGenerator.Generate(before, registry, pod).Config).Config!;
            Assert.Equal(composed.Version, ConfigVersion.Of(applied));
        }
    }
}
