using System.Net;
using Bowline.Api.Xds;
using Bowline.Proxy.Config;
using Bowline.Proxy.LoadBalancing;
using Bowline.Proxy.Telemetry.Metrics;

namespace Bowline.Proxy.Listeners.Tcp;

/// <summary>Checks and compiles a Tcp / Tls listener: an Inbound one names its cluster, the others carry TCP routes.</summary>
internal static class TcpListenerCompiler
{
    /// <exception cref="ConfigException">Unknown cluster, a listener with neither or both of cluster and routes, bad routes.</exception>
    public static CompiledListener Compile(Listener listener, IPAddress address, string where, IReadOnlyDictionary<string, CompiledCluster> clusters)
    {
        var routes = listener.TcpRoutes is { IsDefault: false } r ? r : [];
        CompiledCluster? cluster = null;
        if (listener.Kind == ListenerKind.Inbound)
        {
            if (listener.Cluster is null || !clusters.TryGetValue(listener.Cluster, out cluster))
            {
                throw new ConfigException($"{where}: unknown cluster '{listener.Cluster}'");
            }

            if (!routes.IsEmpty)
            {
                throw new ConfigException($"{where}: an inbound TCP listener has a cluster, not routes");
            }
        }
        else if (listener.Cluster is not null)
        {
            throw new ConfigException($"{where}: a {listener.Kind} TCP listener is routed by tcpRoutes, not a cluster");
        }

        var compiled = new CompiledTcpRoute[routes.Length];
        for (var i = 0; i < compiled.Length; i++)
        {
            compiled[i] = CompiledTcpRoute.Compile(routes[i], $"{where} tcp route {routes[i].Name ?? i.ToString(System.Globalization.CultureInfo.InvariantCulture)}", clusters);
            if (listener.Protocol != ListenerProtocol.Tls && compiled[i].UsesSni)
            {
                throw new ConfigException($"{where}: SNI matches need a Tls listener");
            }
        }

        return new CompiledListener(listener.Name, listener.Kind, address, listener.Port, null, cluster)
        {
            Protocol = listener.Protocol!.Value,
            TcpRoutes = compiled,
            Telemetry = ListenerTelemetry.For(listener, cluster),
        };
    }
}
