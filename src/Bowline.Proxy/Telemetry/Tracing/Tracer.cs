using System.Globalization;
using Bowline.Api.Xds;
using Bowline.Proxy.Config;
using Bowline.Proxy.LoadBalancing;
using Bowline.Proxy.Pipeline;
using Bowline.Proxy.Telemetry.AccessLog;
using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Telemetry.Tracing;

/// <summary>
/// Envoy's tracing in an Istio proxy: at request start it decides sampling, starts this proxy's span under the caller's
/// context and rewrites the trace headers the upstream sees; when the request ends a sampled span is queued for the
/// collector. Inbound and gateway listeners make SERVER spans, the outbound listener CLIENT spans. Without tracing in
/// the config the trace headers pass through untouched.
/// </summary>
internal sealed class Tracer(ISnapshotSource snapshots, string nodeId, string podNamespace, SpanExporter exporter, IRandomSource? random = null, Random? ids = null)
    : IRequestObserver
{
    private const string ClusterDomain = "svc.cluster.local";

    private readonly IRandomSource _random = random ?? SharedRandomSource.Instance;
    private readonly Random _ids = ids ?? Random.Shared;

    public SpanExporter Exporter => exporter;

    public void OnRequestStarting(HttpContext context, ProxyRequestFeature feature)
    {
        if (snapshots.Current?.Config.Telemetry?.Tracing is not { } config)
        {
            return;
        }

        var headers = context.Request.Headers;
        var incoming = TraceContext.Extract(headers);
        var sampled = Sampler.Decide(headers, incoming, config.SamplingPercentage, _random);
        feature.Span = ActiveSpan.Start(headers, incoming, sampled, _ids);
    }

    public void OnRequestCompleted(HttpContext context, ProxyRequestFeature feature)
    {
        if (feature.Span is not { Sampled: true } span
            || snapshots.Current?.Config.Telemetry?.Tracing is not { DisableSpanReporting: false } config)
        {
            return;
        }

        exporter.Enqueue(Finish(context, feature, span, config), config);
    }

    internal SpanData Finish(HttpContext context, ProxyRequestFeature feature, ActiveSpan span, TracingConfig config)
    {
        var record = new RequestRecord(context, feature, System.Diagnostics.Stopwatch.GetTimestamp());
        var status = record.ResponseCode;
        var request = context.Request;
        var authority = request.Host.HasValue ? request.Host.Value : "";
        var url = $"http://{authority}{record.OriginalPath()}";
        if (url.Length > config.MaxPathTagLength)
        {
            url = url[..config.MaxPathTagLength];
        }

        var error = status is 0 or >= 500;
        var tags = new List<KeyValuePair<string, string>>(24)
        {
            new("node_id", nodeId),
            new("zone", ""),
            new("guid:x-request-id", request.Headers["x-request-id"].ToString()),
            new("http.url", url),
            new("http.method", request.Method),
            new("downstream_cluster", Header(request, "x-envoy-downstream-service-cluster")),
            new("user_agent", Header(request, "user-agent")),
            new("http.protocol", request.Protocol),
            new("peer.address", record.Value("DOWNSTREAM_REMOTE_ADDRESS", null) ?? "-"),
            new("request_size", record.BytesReceived.ToString(CultureInfo.InvariantCulture)),
            new("response_size", record.BytesSent.ToString(CultureInfo.InvariantCulture)),
            new("http.status_code", status.ToString(CultureInfo.InvariantCulture)),
            new("response_flags", feature.Flags.ToShortString()),
            new("component", "proxy"),
            new("istio.canonical_service", config.CanonicalService ?? "-"),
            new("istio.canonical_revision", config.CanonicalRevision ?? "latest"),
            new("istio.mesh_id", config.MeshId ?? "cluster.local"),
            new("istio.namespace", podNamespace),
        };
        if (feature.ClusterName is { } cluster)
        {
            tags.Add(new("upstream_cluster", cluster));
            tags.Add(new("upstream_cluster.name", cluster));
        }

        if (record.Value("UPSTREAM_HOST", null) is { } upstream)
        {
            tags.Add(new("upstream_address", upstream));
        }

        if (error)
        {
            tags.Add(new("error", "true"));
        }

        foreach (var (name, value) in config.CustomTags)
        {
            tags.Add(new(name, value));
        }

        var start = feature.StartTime;
        return new SpanData(
            span.TraceId,
            span.SpanId,
            span.ParentSpanId,
            OperationName(feature, authority, podNamespace, config.InboundServices),
            feature.ListenerKind == ListenerKind.Outbound ? SpanKind.Client : SpanKind.Server,
            (start - DateTime.UnixEpoch).Ticks / 10,
            (long)record.Duration.TotalMicroseconds,
            error,
            $"{config.CanonicalService ?? nodeId}.{podNamespace}",
            tags);
    }

    /// <summary>
    /// Istio's route decorator: "{service FQDN}:{port}/*" — from the outbound cluster's name, or for an inbound request
    /// the Service serving the inbound port (else the authority it was sent to, with the inbound cluster's port).
    /// </summary>
    internal static string OperationName(ProxyRequestFeature feature, string authority, string podNamespace,
        System.Collections.Immutable.ImmutableSortedDictionary<int, string>? inboundServices = null)
    {
        var cluster = feature.ClusterName;
        if (cluster is not null)
        {
            var parts = cluster.Split('|');
            if (parts.Length == 4 && parts[0] == "outbound" && parts[3].Length > 0)
            {
                return $"{parts[3]}:{parts[1]}/*";
            }

            if (parts.Length == 4 && parts[0] == "inbound")
            {
                if (inboundServices is not null && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var port)
                    && inboundServices.TryGetValue(port, out var service))
                {
                    return service + "/*";
                }

                return $"{Fqdn(HostOf(authority), podNamespace)}:{parts[1]}/*";
            }
        }

        return authority.Length > 0 ? $"{authority}/*" : "-";
    }

    private static string HostOf(string authority)
    {
        var colon = authority.LastIndexOf(':');
        return colon > authority.LastIndexOf(']') ? authority[..colon] : authority;
    }

    private static string Fqdn(string host, string ns) => host.Count(c => c == '.') switch
    {
        0 => $"{host}.{ns}.{ClusterDomain}",
        1 => $"{host}.{ClusterDomain}",
        2 when host.EndsWith(".svc", StringComparison.OrdinalIgnoreCase) => $"{host}.cluster.local",
        _ => host,
    };

    private static string Header(HttpRequest request, string name) =>
        request.Headers.TryGetValue(name, out var v) && v.Count > 0 ? v.ToString() : "-";
}
