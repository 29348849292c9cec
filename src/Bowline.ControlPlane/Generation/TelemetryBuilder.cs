using System.Collections.Immutable;
using Bowline.Api.Registry;
using Bowline.Api.Resources;
using Bowline.Api.Xds;
using Bowline.ControlPlane.Config;

namespace Bowline.ControlPlane.Generation;

using Telemetry = Bowline.Api.Resources.Telemetry;

/// <summary>The mesh config (ConfigMap istio-system/istio) and the Telemetry resources, in creation order.</summary>
internal sealed record TelemetryInputs(MeshConfig? Mesh, IReadOnlyList<Telemetry> Resources)
{
    public static TelemetryInputs None { get; } = new(null, []);

    public static TelemetryInputs From(ConfigSnapshot config)
    {
        var mesh = config.OfType<ConfigMap>().FirstOrDefault(c => c.IsMeshConfig)?.Mesh;
        var resources = config.OfType<Telemetry>().ToList();
        return mesh is null && resources.Count == 0 ? None : new TelemetryInputs(mesh, resources);
    }
}

/// <summary>
/// One proxy's <see cref="TelemetryConfig"/> as Istio resolves it: Telemetry of the workload (selector) over the
/// namespace's over the root namespace's, each set field overriding the less specific one; then the mesh config
/// (defaultProviders, accessLogFile, defaultConfig.tracing) for what none sets.
/// </summary>
internal static class TelemetryBuilder
{
    private const string EnvoyProvider = "envoy";
    private const string DefaultOtlpPath = "/v1/traces";

    public static TelemetryConfig? Build(MeshModel model, LocalPod pod)
    {
        var inputs = model.Telemetry;
        if (inputs.Mesh is null && inputs.Resources.Count == 0)
        {
            return null;
        }

        var mesh = inputs.Mesh ?? new MeshConfig();
        var chain = Chain(inputs.Resources, mesh.RootNamespace ?? ConfigMap.MeshNamespace, pod);
        var accessLog = AccessLog(mesh, chain);
        var tracing = Tracing(mesh, chain, pod);
        if (tracing is not null && pod.Role == ProxyRole.Sidecar)
        {
            tracing = tracing with { InboundServices = InboundServices(model, pod) };
        }

        return accessLog is null && tracing is null ? null : new TelemetryConfig { AccessLog = accessLog, Tracing = tracing };
    }

    /// <summary>Root, namespace, workload Telemetry (the earliest created at each level), least specific first.</summary>
    internal static IReadOnlyList<TelemetrySpec> Chain(IReadOnlyList<Telemetry> resources, string rootNamespace, LocalPod pod)
    {
        Telemetry? root = null, ns = null, workload = null;
        foreach (var t in resources)
        {
            var selector = t.Spec.Selector?.MatchLabels;
            if (t.EffectiveNamespace != pod.Namespace && t.EffectiveNamespace != rootNamespace)
            {
                continue;
            }

            if (selector is { Count: > 0 })
            {
                if (t.EffectiveNamespace == pod.Namespace && Labels.Contains(pod.Labels, selector))
                {
                    workload ??= t;
                }
            }
            else if (t.EffectiveNamespace == rootNamespace)
            {
                root ??= t;
            }
            else
            {
                ns ??= t;
            }
        }

        return [.. new[] { root, ns, workload }.Where(t => t is not null).Select(t => t!.Spec)];
    }

    private static AccessLogConfig? AccessLog(MeshConfig mesh, IReadOnlyList<TelemetrySpec> chain)
    {
        IReadOnlyList<string>? providers = null;
        var disabled = false;
        var configured = false;
        foreach (var spec in chain)
        {
            foreach (var entry in spec.AccessLogging)
            {
                configured = true;
                if (entry.Providers.Count > 0)
                {
                    providers = [.. entry.Providers.Select(p => p.Name)];
                }

                if (entry.Disabled is { } d)
                {
                    disabled = d;
                }
            }
        }

        if (disabled)
        {
            return null;
        }

        if (providers is null)
        {
            if (mesh.DefaultProviders?.AccessLogging is { Count: > 0 } defaults)
            {
                providers = defaults;
            }
            else if (configured || !string.IsNullOrEmpty(mesh.AccessLogFile))
            {
                // A Telemetry that turns logging on without naming a provider, or meshConfig.accessLogFile: Envoy's.
                providers = [EnvoyProvider];
            }
            else
            {
                return null;
            }
        }

        foreach (var name in providers)
        {
            var provider = mesh.ExtensionProviders.FirstOrDefault(p => p.Name == name);
            if (provider?.EnvoyFileAccessLog is { } file)
            {
                var labels = file.LogFormat?.Labels is not null;
                return new AccessLogConfig
                {
                    Path = string.IsNullOrEmpty(file.Path) ? "/dev/stdout" : file.Path,
                    Encoding = labels ? LogEncoding.Json : LogEncoding.Text,
                    Format = labels ? null : file.LogFormat?.Text,
                };
            }

            if (provider is null && name == EnvoyProvider)
            {
                return new AccessLogConfig
                {
                    Path = string.IsNullOrEmpty(mesh.AccessLogFile) ? "/dev/stdout" : mesh.AccessLogFile,
                    Encoding = mesh.AccessLogEncoding == AccessLogEncoding.Json ? LogEncoding.Json : LogEncoding.Text,
                    Format = string.IsNullOrEmpty(mesh.AccessLogFormat) ? null : mesh.AccessLogFormat,
                };
            }
        }

        return null;
    }

    private static TracingConfig? Tracing(MeshConfig mesh, IReadOnlyList<TelemetrySpec> chain, LocalPod pod)
    {
        IReadOnlyList<string>? providers = null;
        double? sampling = null;
        var disableReporting = false;
        var tags = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        Literals(mesh.DefaultConfig?.Tracing?.CustomTags, tags);
        foreach (var spec in chain)
        {
            foreach (var entry in spec.Tracing)
            {
                if (entry.Providers.Count > 0)
                {
                    providers = [.. entry.Providers.Select(p => p.Name)];
                }

                sampling = entry.RandomSamplingPercentage ?? sampling;
                disableReporting = entry.DisableSpanReporting ?? disableReporting;
                Literals(entry.CustomTags, tags);
            }
        }

        var legacy = mesh.DefaultConfig?.Tracing;
        (TracingProvider Kind, string Endpoint)? target = null;
        if (providers is null && mesh.EnableTracing == false)
        {
            return null;
        }

        providers ??= mesh.DefaultProviders?.Tracing;
        if (providers is { Count: > 0 })
        {
            target = providers.Select(name => Resolve(mesh, name)).FirstOrDefault(t => t is not null);
        }
        else if (legacy?.Zipkin?.Address is { Length: > 0 } address && TryHostPort(address, out var host, out var port))
        {
            target = (TracingProvider.Zipkin, $"http://{host}:{port}/api/v2/spans");
        }

        if (target is not { } t)
        {
            return null;
        }

        return new TracingConfig
        {
            Provider = t.Kind,
            Endpoint = t.Endpoint,
            SamplingPercentage = sampling ?? legacy?.Sampling ?? 1,
            DisableSpanReporting = disableReporting,
            CustomTags = tags.ToImmutable(),
            MaxPathTagLength = legacy?.MaxPathTagLength is > 0 and var max ? max : 256,
            CanonicalService = CanonicalService(pod),
            CanonicalRevision = CanonicalRevision(pod),
            MeshId = mesh.MeshId ?? "cluster.local",
        };
    }

    /// <summary>The Services selecting the pod, by the container port they target (the first Service wins a port).</summary>
    private static ImmutableSortedDictionary<int, string> InboundServices(MeshModel model, LocalPod pod)
    {
        var map = ImmutableSortedDictionary.CreateBuilder<int, string>();
        foreach (var svc in model.KubeServicesSelecting(pod))
        {
            if (svc.EffectiveNamespace != pod.Namespace || svc.Spec.Selector.Count == 0 || !Labels.Contains(pod.Labels, svc.Spec.Selector))
            {
                continue;
            }

            foreach (var sp in svc.Spec.Ports)
            {
                if (MeshModel.TargetOf(pod, sp) is { } port && !map.ContainsKey(port.ContainerPort))
                {
                    map[port.ContainerPort] = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                        $"{svc.Metadata.Name}.{svc.EffectiveNamespace}.{MeshModel.ClusterDomain}:{sp.Port}");
                }
            }
        }

        return map.ToImmutable();
    }

    private static (TracingProvider, string)? Resolve(MeshConfig mesh, string name)
    {
        var provider = mesh.ExtensionProviders.FirstOrDefault(p => p.Name == name);
        if (provider?.Opentelemetry is { Http: { } http } otel && otel.Service.Length > 0)
        {
            var path = string.IsNullOrEmpty(http.Path) ? DefaultOtlpPath : http.Path.StartsWith('/') ? http.Path : "/" + http.Path;
            return (TracingProvider.OpenTelemetry, $"http://{otel.Service}:{otel.Port}{path}");
        }

        if (provider?.Zipkin is { } zipkin && zipkin.Service.Length > 0)
        {
            return (TracingProvider.Zipkin, $"http://{zipkin.Service}:{zipkin.Port}/api/v2/spans");
        }

        return null;
    }

    private static bool TryHostPort(string address, out string host, out int port)
    {
        host = "";
        port = 0;
        var colon = address.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(address.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port))
        {
            return false;
        }

        host = address[..colon];
        return true;
    }

    private static void Literals(IReadOnlyDictionary<string, TelemetryCustomTag>? tags, ImmutableSortedDictionary<string, string>.Builder into)
    {
        foreach (var (name, tag) in tags ?? ImmutableDictionary<string, TelemetryCustomTag>.Empty)
        {
            if (tag.Literal is { } literal)
            {
                into[name] = literal.Value;
            }
        }
    }

    /// <summary>Istio's canonical service: its label, else app.kubernetes.io/name, else app, else the workload name.</summary>
    internal static string CanonicalService(LocalPod pod) =>
        pod.Labels.GetValueOrDefault("service.istio.io/canonical-name")
        ?? pod.Labels.GetValueOrDefault("app.kubernetes.io/name")
        ?? pod.Labels.GetValueOrDefault("app")
        ?? pod.Workload;

    /// <summary>Istio's canonical revision: its label, else app.kubernetes.io/version, else version, else "latest".</summary>
    internal static string CanonicalRevision(LocalPod pod) =>
        pod.Labels.GetValueOrDefault("service.istio.io/canonical-revision")
        ?? pod.Labels.GetValueOrDefault("app.kubernetes.io/version")
        ?? pod.Labels.GetValueOrDefault("version")
        ?? "latest";
}
