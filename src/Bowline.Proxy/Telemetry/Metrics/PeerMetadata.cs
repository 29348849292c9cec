using System.Collections.Concurrent;
using System.Text;
using Bowline.Api.Xds;

namespace Bowline.Proxy.Telemetry.Metrics;

/// <summary>
/// Istio's metadata exchange over plaintext HTTP: the caller's proxy (outbound or gateway listener) adds
/// <see cref="IdHeader"/> and <see cref="Header"/> to requests it sends to mesh endpoints; the callee's inbound proxy
/// reads them for the source_* labels. Both are consumed by every proxy (never forwarded to an app, and never taken
/// from an app's own request). The value is Bowline's compact encoding rather than Istio's base64 protobuf Struct:
/// <c>1;w=reviews-v1;n=default;a=reviews;v=v1;cs=reviews;cr=v1;sa=bookinfo-reviews;c=Kubernetes</c>, each value
/// percent-escaped (RFC 3986 unreserved characters stay as they are), absent fields left out.
/// </summary>
internal static class PeerMetadata
{
    public const string IdHeader = "x-envoy-peer-metadata-id";
    public const string Header = "x-envoy-peer-metadata";
    private const string FormatVersion = "1";

    // A header a misbehaving client varies per request must not grow the cache without bound.
    private const int MaxCached = 4096;

    public static bool IsPeerHeader(string name) =>
        name.Length >= IdHeader.Length - 3
        && (name.Equals(Header, StringComparison.OrdinalIgnoreCase) || name.Equals(IdHeader, StringComparison.OrdinalIgnoreCase));

    public static string Encode(WorkloadMetadata w)
    {
        var text = new StringBuilder(FormatVersion);
        Add(text, "w", w.Name);
        Add(text, "n", w.Namespace);
        Add(text, "a", w.App);
        Add(text, "v", w.Version);
        Add(text, "cs", w.CanonicalService);
        Add(text, "cr", w.CanonicalRevision);
        Add(text, "sa", w.ServiceAccount);
        Add(text, "c", w.Cluster);
        return text.ToString();
    }

    /// <summary>The metadata a header value carries; null when it is not this encoding (then the source is unknown).</summary>
    public static WorkloadMetadata? Decode(string value)
    {
        var parts = value.Split(';');
        if (parts.Length == 0 || parts[0] != FormatVersion)
        {
            return null;
        }

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in parts.AsSpan(1))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                return null;
            }

            try
            {
                fields[part[..eq]] = Uri.UnescapeDataString(part[(eq + 1)..]);
            }
            catch (UriFormatException)
            {
                return null;
            }
        }

        return new WorkloadMetadata
        {
            Name = fields.GetValueOrDefault("w"),
            Namespace = fields.GetValueOrDefault("n"),
            App = fields.GetValueOrDefault("a"),
            Version = fields.GetValueOrDefault("v"),
            CanonicalService = fields.GetValueOrDefault("cs"),
            CanonicalRevision = fields.GetValueOrDefault("cr"),
            ServiceAccount = fields.GetValueOrDefault("sa"),
            Cluster = fields.GetValueOrDefault("c"),
        };
    }

    private static void Add(StringBuilder text, string key, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            text.Append(';').Append(key).Append('=').Append(Uri.EscapeDataString(value));
        }
    }

    /// <summary>
    /// The inbound side's header value → source labels. A caller sends the same value on every request, so after its
    /// first request the lookup is one ordinal string hash and no allocation (the header string is Kestrel's).
    /// </summary>
    internal sealed class SourceCache
    {
        private readonly ConcurrentDictionary<string, LabelPart> _byValue = new(StringComparer.Ordinal);

        public LabelPart Source(string value)
        {
            if (_byValue.TryGetValue(value, out var part))
            {
                return part;
            }

            part = WorkloadLabels.Source(Decode(value));
            if (_byValue.Count < MaxCached)
            {
                _byValue.TryAdd(value, part);
            }

            return part;
        }
    }
}
