using System.Text;
using Bowline.Api.Xds;

namespace Bowline.Proxy.Telemetry.Metrics;

/// <summary>Istio's source_* and destination_* labels of one workload, rendered once per config (not per request).</summary>
internal static class WorkloadLabels
{
    public const string Unknown = "unknown";

    private const string ServiceSuffix = ".svc.cluster.local";

    public static readonly LabelPart UnknownSource = Source(null);

    public static readonly LabelPart UnknownDestination = Destination(null, null);

    public static LabelPart Source(WorkloadMetadata? w)
    {
        var text = new StringBuilder(256);
        Workload(text, "source", w);
        return LabelPart.Intern(text.ToString());
    }

    /// <param name="service">The destination service FQDN (destination_service), when known.</param>
    public static LabelPart Destination(WorkloadMetadata? w, string? service)
    {
        var text = new StringBuilder(384);
        Workload(text, "destination", w);
        var (name, ns) = SplitService(service);
        Add(text, "destination_service", service);
        Add(text, "destination_service_name", name);
        Add(text, "destination_service_namespace", ns);
        return LabelPart.Intern(text.ToString());
    }

    /// <summary>"reviews.default.svc.cluster.local" → ("reviews", "default"); other hosts are their own name, namespace unknown.</summary>
    public static (string? Name, string? Namespace) SplitService(string? service)
    {
        if (string.IsNullOrEmpty(service))
        {
            return (null, null);
        }

        if (service.EndsWith(ServiceSuffix, StringComparison.OrdinalIgnoreCase))
        {
            var head = service[..^ServiceSuffix.Length];
            var dot = head.IndexOf('.', StringComparison.Ordinal);
            if (dot > 0 && dot < head.Length - 1)
            {
                return (head[..dot], head[(dot + 1)..]);
            }
        }

        return (service, null);
    }

    private static void Workload(StringBuilder text, string side, WorkloadMetadata? w)
    {
        Add(text, side + "_workload", w?.Name);
        Add(text, side + "_workload_namespace", w?.Namespace);
        // spiffe://cluster.local/ns/<ns>/sa/<sa> once there is mTLS; a plaintext peer proves no identity.
        Add(text, side + "_principal", null);
        Add(text, side + "_app", w?.App);
        Add(text, side + "_version", w?.Version);
        Add(text, side + "_cluster", w?.Cluster);
        Add(text, side + "_canonical_service", w?.CanonicalService);
        Add(text, side + "_canonical_revision", w?.CanonicalRevision);
    }

    private static void Add(StringBuilder text, string name, string? value) =>
        text.Append(name).Append("=\"").Append(PrometheusText.Escape(string.IsNullOrEmpty(value) ? Unknown : value)).Append("\",");
}
