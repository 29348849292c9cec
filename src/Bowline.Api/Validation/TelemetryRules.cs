using Bowline.Api.Resources;
using Bowline.Api.AccessLogs;

namespace Bowline.Api.Validation;

/// <summary>Checks of the Telemetry resource and of the istio ConfigMap's MeshConfig, after Istio's validation.</summary>
internal static class TelemetryRules
{
    /// <summary>Istio's built-in access log provider (the one meshConfig.accessLogFile configures).</summary>
    public const string EnvoyProvider = "envoy";

    public static void Check(TelemetrySpec spec, Reporter r)
    {
        if (spec.Selector is not null && (spec.TargetRefs.Count > 0 || spec.TargetRef is not null))
        {
            r.Report("spec", "only one of selector or targetRefs may be set");
        }

        for (var i = 0; i < spec.Tracing.Count; i++)
        {
            var tracing = spec.Tracing[i];
            var path = $"spec.tracing[{i}]";
            Checks.Percentage(r, $"{path}.randomSamplingPercentage", tracing.RandomSamplingPercentage);
            Providers(tracing.Providers, $"{path}.providers", r);
            CustomTags(tracing.CustomTags, $"{path}.customTags", r);
        }

        for (var i = 0; i < spec.AccessLogging.Count; i++)
        {
            Providers(spec.AccessLogging[i].Providers, $"spec.accessLogging[{i}].providers", r);
        }
    }

    public static void Check(ConfigMap configMap, Reporter r)
    {
        if (configMap.Mesh is not { } mesh)
        {
            return;
        }

        const string p = "data.mesh";
        if (mesh.AccessLogFormat is { Length: > 0 } format)
        {
            var error = mesh.AccessLogEncoding == AccessLogEncoding.Json
                ? AccessLogFormat.ParseJson(format).Error
                : AccessLogFormat.Parse(format).Error;
            if (error is not null)
            {
                r.Report($"{p}.accessLogFormat", error);
            }
        }

        if (mesh.DefaultConfig?.Tracing is { } tracing)
        {
            Checks.Percentage(r, $"{p}.defaultConfig.tracing.sampling", tracing.Sampling);
            CustomTags(tracing.CustomTags, $"{p}.defaultConfig.tracing.customTags", r);
            if (tracing.Zipkin?.Address is { Length: > 0 } address && !TryHostPort(address, out _, out _))
            {
                r.Report($"{p}.defaultConfig.tracing.zipkin.address", $"expected host:port, got \"{address}\"");
            }
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < mesh.ExtensionProviders.Count; i++)
        {
            var provider = mesh.ExtensionProviders[i];
            var path = $"{p}.extensionProviders[{i}]";
            Checks.Required(r, $"{path}.name", provider.Name);
            if (provider.Name.Length > 0 && !names.Add(provider.Name))
            {
                r.Report($"{path}.name", $"duplicate extension provider name \"{provider.Name}\"");
            }

            if (provider.Opentelemetry is { } otel)
            {
                Checks.Required(r, $"{path}.opentelemetry.service", otel.Service);
                PortRequired(r, $"{path}.opentelemetry.port", otel.Port);
            }

            if (provider.Zipkin is { } zipkin)
            {
                Checks.Required(r, $"{path}.zipkin.service", zipkin.Service);
                PortRequired(r, $"{path}.zipkin.port", zipkin.Port);
            }

            if (provider.EnvoyFileAccessLog?.LogFormat?.Text is { } text && AccessLogFormat.Parse(text).Error is { } textError)
            {
                r.Report($"{path}.envoyFileAccessLog.logFormat.text", textError);
            }

            if (provider.EnvoyFileAccessLog?.LogFormat?.Labels is { } labels)
            {
                foreach (var (name, value) in labels)
                {
                    if (AccessLogFormat.Parse(value).Error is { } labelError)
                    {
                        r.Report($"{path}.envoyFileAccessLog.logFormat.labels.{name}", labelError);
                    }
                }
            }
        }

        if (mesh.DefaultProviders is { } defaults)
        {
            Known(defaults.Tracing, names, $"{p}.defaultProviders.tracing", r);
            Known(defaults.AccessLogging, names, $"{p}.defaultProviders.accessLogging", r);
        }
    }

    /// <summary>"zipkin.istio-system:9411" → host and port.</summary>
    public static bool TryHostPort(string address, out string host, out int port)
    {
        host = "";
        port = 0;
        var colon = address.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(address.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port)
            || port is < 1 or > 65535)
        {
            return false;
        }

        host = address[..colon];
        return true;
    }

    private static void Known(IReadOnlyList<string> referenced, HashSet<string> names, string path, Reporter r)
    {
        for (var i = 0; i < referenced.Count; i++)
        {
            if (!names.Contains(referenced[i]) && referenced[i] != EnvoyProvider)
            {
                r.Report($"{path}[{i}]", $"extension provider \"{referenced[i]}\" is not defined in extensionProviders");
            }
        }
    }

    private static void PortRequired(Reporter r, string path, int port)
    {
        if (port is < 1 or > 65535)
        {
            r.Report(path, port == 0 ? "required field is missing" : $"port number {port} is out of range 1-65535");
        }
    }

    private static void Providers(IReadOnlyList<TelemetryProviderRef> providers, string path, Reporter r)
    {
        for (var i = 0; i < providers.Count; i++)
        {
            Checks.Required(r, $"{path}[{i}].name", providers[i].Name);
        }
    }

    private static void CustomTags(IReadOnlyDictionary<string, TelemetryCustomTag> tags, string path, Reporter r)
    {
        foreach (var (name, tag) in tags)
        {
            var set = (tag.Literal is null ? 0 : 1) + (tag.Environment is null ? 0 : 1) + (tag.Header is null ? 0 : 1);
            if (set != 1)
            {
                r.Report($"{path}.{name}", "exactly one of literal, environment or header must be set");
            }
        }
    }
}
