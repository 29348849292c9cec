using System.Net;
using Bowline.Api.Xds;
using Bowline.Proxy.Listeners.Tcp;
using Bowline.Proxy.Listeners.Tls;
using Bowline.Proxy.LoadBalancing;
using Bowline.Proxy.Routing;
using Bowline.Proxy.Telemetry.Metrics;

namespace Bowline.Proxy.Config;

/// <summary>A listener with its route table (Outbound, Gateway) or cluster (Inbound) resolved.</summary>
/// <param name="Tls">TLS termination for the listener's connections (gateway HTTPS servers); null means plaintext.</param>
internal sealed record CompiledListener(string Name, ListenerKind Kind, IPAddress Address, int Port, CompiledRouteTable? RouteTable, CompiledCluster? Cluster, CompiledTls? Tls = null)
{
    /// <summary>The listener's local rate limit bucket (routes may have their own); null when it has none.</summary>
    public RateLimit.TokenBucket? RateLimit { get; init; }
    /// <summary>Reporter side, own workload labels and peer-metadata headers (metrics).</summary>
    public ListenerTelemetry Telemetry { get; init; } = null!;

    /// <summary>"127.0.0.1:8080", as bind errors name it.</summary>
    public string Endpoint => new IPEndPoint(Address, Port).ToString();

    /// <summary>Http (Kestrel) or Tcp / Tls (opaque bytes, <see cref="TcpListenerServer"/>).</summary>
    public ListenerProtocol Protocol { get; init; } = ListenerProtocol.Http;

    /// <summary>Tcp / Tls listeners without a <see cref="Cluster"/>: first match wins.</summary>
    public IReadOnlyList<CompiledTcpRoute> TcpRoutes { get; init; } = [];
}
