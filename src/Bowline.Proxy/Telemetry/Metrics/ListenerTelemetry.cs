using Bowline.Api.Xds;
using Bowline.Proxy.LoadBalancing;

namespace Bowline.Proxy.Telemetry.Metrics;

/// <summary>
/// A listener's part of every metric it reports, resolved when a config is compiled: which side reports (Istio's
/// reporter="source" for outbound and gateway listeners, "destination" for inbound ones), the proxy's own workload as
/// labels, and the peer-metadata header values an outbound proxy sends.
/// </summary>
internal sealed class ListenerTelemetry
{
    private ListenerTelemetry(bool inbound, LabelPart local, string? peerId, string? peerMetadata)
    {
        Inbound = inbound;
        Local = local;
        PeerId = peerId;
        PeerMetadata = peerMetadata;
        // Base64 and a DNS name: plain ASCII on one line each. Anything else goes out through the checked path.
        if (IsPlain(peerId) && IsPlain(peerMetadata))
        {
            PeerHeaderLines = System.Text.Encoding.ASCII.GetBytes(
                $"{Metrics.PeerMetadata.IdHeader}: {peerId}\r\n{Metrics.PeerMetadata.Header}: {peerMetadata}\r\n");
        }
    }

    /// <summary>Inbound: reporter="destination"; otherwise reporter="source".</summary>
    public bool Inbound { get; }

    /// <summary>The proxy's own labels: destination_* (with the inbound cluster's service) inbound, source_* otherwise.</summary>
    public LabelPart Local { get; }

    /// <summary>Values of <see cref="Metrics.PeerMetadata.IdHeader"/> and <see cref="Metrics.PeerMetadata.Header"/>; null inbound or when the proxy does not know its workload.</summary>
    public string? PeerId { get; }

    public string? PeerMetadata { get; }

    /// <summary>
    /// Both peer-metadata header lines as the HTTP/1.1 client writes them, encoded once per config rather than on every
    /// request (the metadata value is a few hundred bytes); null when there are none.
    /// </summary>
    public byte[]? PeerHeaderLines { get; }

    private static bool IsPlain(string? value) =>
        value is not null && System.Text.Ascii.IsValid(value) && value.AsSpan().IndexOfAny('\r', '\n', '\0') < 0;

    public static ListenerTelemetry For(Listener listener, CompiledCluster? inboundCluster)
    {
        var w = listener.Workload;
        if (listener.Kind == ListenerKind.Inbound)
        {
            return new ListenerTelemetry(true, WorkloadLabels.Destination(w, inboundCluster?.Service), null, null);
        }

        var role = listener.Kind == ListenerKind.Gateway ? "router" : "sidecar";
        return new ListenerTelemetry(false, WorkloadLabels.Source(w),
            w is null ? null : $"{role}~{w.Name}.{w.Namespace}",
            w is null ? null : Metrics.PeerMetadata.Encode(w));
    }
}
