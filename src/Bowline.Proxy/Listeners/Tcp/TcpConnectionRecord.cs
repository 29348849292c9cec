using System.Net;
using Bowline.Api.Xds;
using Bowline.Proxy.Config;
using Bowline.Proxy.LoadBalancing;
using Bowline.Proxy.Pipeline;

namespace Bowline.Proxy.Listeners.Tcp;

/// <summary>
/// One proxied TCP connection as metrics see it. The byte counters are live (read them any time, e.g. for periodic
/// istio_tcp_*_bytes_total deltas); the rest is set before <see cref="ITcpConnectionObserver.OnTcpConnectionOpened"/>,
/// except <see cref="Upstream"/>, <see cref="Flags"/>, <see cref="IdleTimedOut"/> and <see cref="Duration"/>, final at close.
/// </summary>
internal sealed class TcpConnectionRecord(string listener, ListenerKind kind, IPEndPoint? downstream, IPEndPoint? local, long startedAt)
{
    private long _received;
    private long _sent;

    public string Listener { get; } = listener;
    public ListenerKind Kind { get; } = kind;
    /// <summary>The client's address.</summary>
    public IPEndPoint? Downstream { get; } = downstream;
    /// <summary>The listener address the client reached.</summary>
    public IPEndPoint? Local { get; } = local;
    /// <summary><see cref="TimeProvider.GetTimestamp"/> at accept.</summary>
    public long StartedAt { get; } = startedAt;

    /// <summary>The compiled listener, cluster and endpoint behind the names above (metrics labels); null where those are.</summary>
    public CompiledListener? ListenerConfig { get; internal set; }
    public CompiledCluster? ClusterConfig { get; internal set; }
    public UpstreamEndpoint? Endpoint { get; internal set; }

    /// <summary>The TLS ClientHello's server name (Tls listeners only), lower case; null without one.</summary>
    public string? Sni { get; internal set; }
    /// <summary>The route that took the connection (VirtualService tcp/tls name); null for inbound listeners or no route.</summary>
    public string? Route { get; internal set; }
    /// <summary>Cluster name ("outbound|9000|v1|tcp-echo.default.svc.cluster.local"); null when no route matched (NR).</summary>
    public string? Cluster { get; internal set; }
    /// <summary>The cluster's service FQDN and subset, for Istio's destination_service / destination_version labels.</summary>
    public string? Service { get; internal set; }
    public string? Subset { get; internal set; }
    /// <summary>The endpoint connected to ("127.0.0.1:41234"), null before the connect or when none was picked.</summary>
    public string? Upstream { get; internal set; }
    /// <summary>The upstream endpoint's pod, when known.</summary>
    public string? UpstreamPod { get; internal set; }

    /// <summary>Bytes read from the client and sent upstream (Istio's istio_tcp_received_bytes_total).</summary>
    public long ReceivedBytes => Interlocked.Read(ref _received);
    /// <summary>Bytes read from the upstream and sent to the client (Istio's istio_tcp_sent_bytes_total).</summary>
    public long SentBytes => Interlocked.Read(ref _sent);

    /// <summary>Envoy's response flags: NR no route, UH no healthy endpoint, UF connect failure, UO maxConnections
    /// overflow, UC upstream reset, DC downstream reset.</summary>
    public ResponseFlags Flags { get; internal set; }
    /// <summary>Closed by the idle timeout (tcp.idleTimeout).</summary>
    public bool IdleTimedOut { get; internal set; }
    public TimeSpan Duration { get; internal set; }

    internal void AddReceived(int bytes) => Interlocked.Add(ref _received, bytes);

    internal void AddSent(int bytes) => Interlocked.Add(ref _sent, bytes);
}
