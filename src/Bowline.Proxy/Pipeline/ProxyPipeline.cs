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
/// authority → first matching route → local rate limit (the route's bucket, else the listener's; Inbound: the
/// listener's) → CORS preflight → its faults (<see cref="FaultFilter"/>) → redirect or direct response, else weighted cluster → path rewrite → mirror copies (<see cref="MirrorFilter"/>) → (in <see cref="Forwarder"/>) round-robin endpoint, header edits,
/// authority rewrite → forward.
/// Lock-free: the snapshot is read once per request and never changes underneath it.
/// </summary>
internal sealed class ProxyPipeline(ISnapshotSource snapshots, Forwarder forwarder, IRandomSource random, TimeProvider time, EgressStats? egress = null,
    IRequestObserver? observer = null)
{
    private const string RequestIdHeader = "x-request-id";
    private readonly EgressStats _egress = egress ?? new EgressStats();

    private readonly FaultFilter _faults = new(time, random);
    private readonly MirrorFilter _mirrors = new(forwarder, random);

    /// <summary>
    /// Not an async method: the common request (no fault, no mirror) returns the forwarder's task itself, so it costs
    /// no async frame of its own; faults and mirrors, which await before forwarding, continue in async helpers.
    /// </summary>
    public Task HandleAsync(HttpContext context, ProxyRequestFeature feature, int serverId)
    {
        if (Grpc.GrpcProtocol.IsGrpc(context.Request) || HttpProtocol.IsHttp2(context.Request.Protocol))
        {
            // A gRPC client or bidi stream may send nothing for minutes by design (grpc-dotnet exempts them too). And
            // Kestrel enforces the rate per HTTP/2 connection, aborting every stream on it: one slow client behind a
            // peer sidecar would take down its neighbours' streams. The rate guards HTTP/1 connections only.
            Grpc.GrpcStreams.AllowQuietRequestBody(context);
        }

        var headers = context.Request.Headers;
        if (headers.Connection.Count > 0 || headers.TransferEncoding.Count > 0)
        {
            // Before anything reads the head: Kestrel may have changed these fields (HTTP/2 has neither).
            Listeners.Http1HeadCapture.Restore(headers);
        }

        var snapshot = snapshots.Current;
        if (snapshot is null || !snapshot.ListenersByServer.TryGetValue(serverId, out var listener))
        {
            return LocalReplies.ListenerDrainingAsync(context, feature);
        }

        feature.Listener = listener;
        // Envoy's connection manager makes the request id before anything else, so logs and traces carry it too.
        if (!context.Request.Headers.ContainsKey(RequestIdHeader))
        {
            context.Request.Headers[RequestIdHeader] = RequestId.New();
        }

        feature.ListenerKind = listener.Kind;
        observer?.OnRequestStarting(context, feature);
        if (headers.TransferEncoding.Count > 0 && !TransferCodings.OnlyChunked(headers.TransferEncoding))
        {
            // Before any route or upstream: nothing of this request goes anywhere.
            return LocalReplies.DownstreamProtocolErrorAsync(context, feature, StatusCodes.Status501NotImplemented);
        }

        var target = OriginForm.Get(context);
        if (listener.Kind == ListenerKind.Inbound)
        {
            if (listener.RateLimit is { } inboundLimit && !inboundLimit.TryTake())
            {
                return LocalReplies.RateLimitedAsync(context, feature);
            }

            return forwarder.ForwardAsync(context, feature, listener.Cluster!, null, target);
        }

        if (HttpMethods.IsConnect(context.Request.Method) && !Forwarding.Upgrade.UpgradeForwarder.IsUpgrade(context))
        {
            // Tunnels (HTTPS through HTTP_PROXY) are not supported; like Envoy without a CONNECT route: no route.
            return LocalReplies.NoRouteAsync(context, feature);
        }

        var route = FindRoute(listener.RouteTable!, context, target, out var matchIndex);
        // Istio inserts envoy.filters.http.local_ratelimit ahead of the other HTTP filters, so it runs before CORS
        // and faults; its per-route config replaces the listener's, and without a route the listener's applies.
        if ((route?.RateLimit ?? listener.RateLimit) is { } limit && !limit.TryTake())
        {
            if (route is not null)
            {
                feature.RouteName = route.Name;
            }

            return LocalReplies.RateLimitedAsync(context, feature);
        }

        if (route is null)
        {
            return LocalReplies.NoRouteAsync(context, feature);
        }

        feature.RouteName = route.Name;
        feature.Route = route;

        // Istio's filter order: CORS, then faults, then the router (redirect, direct response or forward).
        string? corsOrigin = null;
        if (route.Cors is { } cors && (corsOrigin = cors.AllowedOrigin(context.Request)) is not null && CompiledCors.IsPreflight(context.Request))
        {
            return LocalReplies.CorsPreflightAsync(context, feature, cors, corsOrigin);
        }

        return route.Fault is { } fault
            ? FaultThenRouteAsync(context, feature, fault, route, target, matchIndex, corsOrigin)
            : RouteAsync(context, feature, route, target, matchIndex, corsOrigin);
    }

    private async Task FaultThenRouteAsync(HttpContext context, ProxyRequestFeature feature, CompiledFault fault, CompiledRoute route, string target,
        int matchIndex, string? corsOrigin)
    {
        if (await _faults.ApplyAsync(context, feature, fault))
        {
            return;
        }

        await RouteAsync(context, feature, route, target, matchIndex, corsOrigin);
    }

    /// <summary>The router: redirect, direct response, or a weighted destination (mirrored, then forwarded).</summary>
    private Task RouteAsync(HttpContext context, ProxyRequestFeature feature, CompiledRoute route, string target, int matchIndex, string? corsOrigin)
    {
        if (route.Redirect is { } redirect)
        {
            var location = redirect.Location(target, context.Request.Host.Value ?? "", context.Connection.LocalPort, DownstreamTls.Scheme(context));
            return LocalReplies.RedirectAsync(context, feature, redirect.Code, location);
        }

        if (route.DirectResponse is { } direct)
        {
            if (route.Name == EgressNames.BlockAll)
            {
                // REGISTRY_ONLY: Istio reports the refusal as the BlackHoleCluster (Envoy itself sets no flag).
                feature.ClusterName = EgressNames.BlackHoleCluster;
                _egress.RecordBlackHole();
            }

            return LocalReplies.DirectResponseAsync(context, feature, direct.Status, direct.Body);
        }

        var destinations = route.Destinations!;
        var picked = destinations.PickIndex(random);
        var cluster = destinations[picked];
        if (cluster.OriginalDestination && cluster.Name == EgressNames.PassthroughCluster)
        {
            _egress.RecordPassthrough();
        }

        var destinationHeaders = route.DestinationHeaders.Length > 0 ? route.DestinationHeaders[picked] : null;
        // The asterisk-form names no resource: there is no path to rewrite.
        if (route.Rewrite is { RewritesPath: true } rewrite && target != OriginForm.Asterisk)
        {
            target = rewrite.RewriteTarget(target, matchIndex);
        }

        return route.Mirrors.Length > 0 && !Forwarding.Upgrade.UpgradeForwarder.IsUpgrade(context)
            ? MirrorThenForwardAsync(context, feature, cluster, route, target, destinationHeaders, corsOrigin)
            : forwarder.ForwardAsync(context, feature, cluster, route, target, destinationHeaders, corsOrigin);
    }

    private async Task MirrorThenForwardAsync(HttpContext context, ProxyRequestFeature feature, CompiledCluster cluster, CompiledRoute route, string target,
        CompiledHeaderPolicy? destinationHeaders, string? corsOrigin)
    {
        // Started, never awaited: only a small body is read here (see MirrorFilter), the copies run on their own.
        await _mirrors.StartAsync(context, route, target, destinationHeaders);
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
