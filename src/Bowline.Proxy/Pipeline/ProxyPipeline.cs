using Bowline.Api.Xds;
using Bowline.Proxy.Config;
using Bowline.Proxy.Forwarding;
using Bowline.Proxy.Listeners.Tls;
using Bowline.Proxy.LoadBalancing;
using Bowline.Proxy.Routing;
using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Pipeline;

/// <summary>
/// The request path, in one place: find the listener in the current snapshot → (Outbound/Gateway) virtual host by
/// authority → first matching route → CORS preflight → its faults (<see cref="FaultFilter"/>) → redirect or direct
/// response, else weighted cluster → path rewrite → mirror copies (<see cref="MirrorFilter"/>) → (in <see cref="Forwarder"/>) round-robin endpoint, header edits,
/// authority rewrite → forward.
/// Lock-free: the snapshot is read once per request and never changes underneath it.
/// </summary>
internal sealed class ProxyPipeline(ISnapshotSource snapshots, Forwarder forwarder, IRandomSource random, TimeProvider time)
{
    private readonly FaultFilter _faults = new(time, random);
    private readonly MirrorFilter _mirrors = new(forwarder, random);

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
        CompiledHeaderPolicy? destinationHeaders = null;
        string? corsOrigin = null;
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
            route = FindRoute(listener.RouteTable!, context, target, out var matchIndex);
            if (route is null)
            {
                await LocalReplies.NoRouteAsync(context, feature);
                return;
            }

            feature.RouteName = route.Name;

            // Istio's filter order: CORS, then faults, then the router (redirect, direct response or forward).
            if (route.Cors is { } cors && (corsOrigin = cors.AllowedOrigin(context.Request)) is not null && CompiledCors.IsPreflight(context.Request))
            {
                await LocalReplies.CorsPreflightAsync(context, feature, cors, corsOrigin);
                return;
            }

            if (route.Fault is { } fault && await _faults.ApplyAsync(context, feature, fault))
            {
                return;
            }

            if (route.Redirect is { } redirect)
            {
                var location = redirect.Location(target, context.Request.Host.Value ?? "", context.Connection.LocalPort, DownstreamTls.Scheme(context));
                await LocalReplies.RedirectAsync(context, feature, redirect.Code, location);
                return;
            }

            if (route.DirectResponse is { } direct)
            {
                await LocalReplies.DirectResponseAsync(context, feature, direct.Status, direct.Body);
                return;
            }

            var destinations = route.Destinations!;
            var picked = destinations.PickIndex(random);
            cluster = destinations[picked];
            if (route.DestinationHeaders.Length > 0)
            {
                destinationHeaders = route.DestinationHeaders[picked];
            }

            if (route.Rewrite is { RewritesPath: true } rewrite)
            {
                target = rewrite.RewriteTarget(target, matchIndex);
            }

            if (route.Mirrors.Length > 0)
            {
                // Started, never awaited: only a small body is read here (see MirrorFilter), the copies run on their own.
                await _mirrors.StartAsync(context, route, target, destinationHeaders);
            }
        }

        await forwarder.ForwardAsync(context, feature, cluster, route, target, destinationHeaders, corsOrigin);
    }

    private static CompiledRoute? FindRoute(CompiledRouteTable table, HttpContext context, string target, out int matchIndex)
    {
        matchIndex = -1;
        var authority = context.Request.Host.Value ?? "";
        var host = table.FindVirtualHost(authority);
        if (host is null)
        {
            return null;
        }

        var facts = new RequestFacts(context.Request, OriginForm.PathOf(target), authority, context.Connection.LocalPort);
        return host.FindRoute(facts, out matchIndex);
    }
}
