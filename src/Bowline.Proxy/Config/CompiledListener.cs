using System.Net;
using Bowline.Api.Xds;
using Bowline.Proxy.Listeners.Tls;
using Bowline.Proxy.LoadBalancing;
using Bowline.Proxy.Routing;

namespace Bowline.Proxy.Config;

/// <summary>A listener with its route table (Outbound, Gateway) or cluster (Inbound) resolved.</summary>
/// <param name="Tls">TLS termination for the listener's connections (gateway HTTPS servers); null means plaintext.</param>
internal sealed record CompiledListener(string Name, ListenerKind Kind, IPAddress Address, int Port, CompiledRouteTable? RouteTable, CompiledCluster? Cluster, CompiledTls? Tls = null)
{
    /// <summary>"127.0.0.1:8080", as bind errors name it.</summary>
    public string Endpoint => new IPEndPoint(Address, Port).ToString();
}
