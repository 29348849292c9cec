using Bowline.Api.Xds;
using Bowline.Proxy.Config;
using Bowline.Proxy.Forwarding;
using Bowline.Proxy.LoadBalancing;
using Bowline.Proxy.Routing;
using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Pipeline;

/// <summary>
/// The request path, in one place: find the listener in the current snapshot → (Outbound/Gateway) virtual host by
/// authority → first matching route → its faults (<see cref="FaultFilter"/>) → weighted cluster → (in
/// <see cref="Forwarder"/>) round-robin endpoint → forward.
/// Lock-free: the snapshot is read once per request and never changes underneath it.
/// </summary>
internal sealed class ProxyPipeline(ISnapshotSource snapshots, Forwarder forwarder, IRandomSource random, TimeProvider time)
{
    private readonly FaultFilter _faults = new(time, random);

    public async Task HandleAsync(HttpContext context, int serverId)
    {
        var feature = new ProxyRequestFeature();
        context.Features.Set(feature);

        var snapshot = snapshots.Current;
        if (snapshot is null || !snapshot.ListenersByServer.TryGetValue(serverId, out var listener))
        {
            await LocalReplies.ListenerDrainingAsync(context, feature);
            return;
        }

        var target = OriginForm.Get(context);
        CompiledCluster cluster;
        CompiledRoute? route = null;
        if (listener.Kind == ListenerKind.Inbound)
        {
            cluster = listener.Cluster!;
        }
        else if (HttpMethods.IsConnect(context.Request.Method))
        {
            // Tunnels (HTTPS through HTTP_PROXY) are not supported; like Envoy without a CONNECT route: no route.
            await LocalReplies.NoRouteAsync(context, feature);
            return;
        }
        else
        {
            route = FindRoute(listener.RouteTable!, context, target);
            if (route is null)
            {
                await LocalReplies.NoRouteAsync(context, feature);
                return;
            }

            feature.RouteName = route.Name;
            if (route.Fault is { } fault && await _faults.ApplyAsync(context, feature, fault))
            {
                return;
            }

            cluster = route.Destinations.Pick(random);
        }

        await forwarder.ForwardAsync(context, feature, cluster, route, target);
    }

    private static CompiledRoute? FindRoute(CompiledRouteTable table, HttpContext context, string target)
    {
        var authority = context.Request.Host.Value ?? "";
        var host = table.FindVirtualHost(authority);
        if (host is null)
        {
            return null;
        }

        var facts = new RequestFacts(context.Request, OriginForm.PathOf(target), authority, context.Connection.LocalPort);
        return host.FindRoute(facts);
    }
}
