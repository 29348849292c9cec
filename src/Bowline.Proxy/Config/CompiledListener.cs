using System.Net;
using Bowline.Api.Xds;
using Bowline.Proxy.LoadBalancing;
using Bowline.Proxy.Routing;
using Bowline.Proxy.Telemetry.Metrics;

namespace Bowline.Proxy.Config;

/// <summary>A listener with its route table (Outbound, Gateway) or cluster (Inbound) resolved.</summary>
internal sealed record CompiledListener(string Name, ListenerKind Kind, IPAddress Address, int Port, CompiledRouteTable? RouteTable, CompiledCluster? Cluster)
{
    /// <summary>Reporter side, own workload labels and peer-metadata headers (metrics).</summary>
    public ListenerTelemetry Telemetry { get; init; } = null!;

    /// <summary>"127.0.0.1:8080", as bind errors name it.</summary>
    public string Endpoint => new IPEndPoint(Address, Port).ToString();
}
