using System.Collections.Immutable;
using System.Globalization;
using Bowline.Api.Resources;
using Bowline.Api.Xds;
using Route = Bowline.Api.Xds.Route;
using XStringMatch = Bowline.Api.Xds.StringMatch;

namespace Bowline.ControlPlane.Generation;

/// <summary>Translates a VirtualService's http routes into pushed routes for one place (pod + port).</summary>
internal static class RouteBuilder
{
    public const string Mesh = "mesh";

    /// <summary>
    /// A VirtualService's <c>gateways</c> entry (or a match's) as "ns/name" — a bare name is in the VirtualService's
    /// namespace; "mesh" stays "mesh".
    /// </summary>
    public static string GatewayRef(string entry, string vsNamespace) =>
        entry == Mesh || entry.Contains('/', StringComparison.Ordinal) ? entry : $"{vsNamespace}/{entry}";

    public static ImmutableArray<Route> Build(MeshModel mesh, VirtualService vs, RouteContext ctx, List<string> notes)
    {
        var ns = vs.EffectiveNamespace;
        var routes = ImmutableArray.CreateBuilder<Route>();
        for (var i = 0; i < vs.Spec.Http.Count; i++)
        {
            var http = vs.Spec.Http[i];
            var name = http.Name ?? string.Create(CultureInfo.InvariantCulture, $"{ns}/{vs.Metadata.Name}[{i}]");
            if (http.Route.Count == 0 && http.Redirect is null && http.DirectResponse is null)
            {
                // Delegate has no place in the push contract yet.
                notes.Add($"{ns}/{vs.Metadata.Name}: route {name} skipped: only route, redirect and directResponse are supported");
                continue;
            }

            ImmutableArray<RouteMatch> matches = [];
            if (http.Match.Count > 0)
            {
                matches = [.. http.Match.Where(m => Applies(m, ns, ctx)).Select(Convert)];
                if (matches.IsEmpty)
                {
                    continue; // none of its matches can happen here
                }
            }

            var where = $"{ns}/{vs.Metadata.Name}: route {name}";
            var common = new Route
            {
                Name = name,
                Matches = matches,
                Fault = FaultBuilder.Build(http.Fault, where, notes),
                Cors = CorsBuilder.Build(http.CorsPolicy, where, notes),
            };

            // Validation allows one action per route; the proxy answers redirects and direct responses itself, so
            // forwarding parts (timeout, retries, rewrite, headers) only go with destinations.
            routes.Add(http.Redirect is not null || http.DirectResponse is not null
                ? common with
                {
                    Redirect = RouteActionBuilder.Redirect(http.Redirect),
                    DirectResponse = http.Redirect is null ? RouteActionBuilder.DirectResponse(http.DirectResponse) : null,
                }
                : common with
                {
                    Destinations = Destinations(mesh, http.Route, ns, ctx.Port),
                    Timeout = http.Timeout,
                    Retries = RetryBuilder.Build(http.Retries),
                    Rewrite = RouteActionBuilder.Rewrite(http.Rewrite),
                    Headers = HeaderPolicyBuilder.Build(http.Headers),
                    Mirrors = MirrorBuilder.Build(http, d => ClusterOf(mesh, d, ns, ctx.Port)),
                });
        }

        return routes.ToImmutable();
    }

    /// <summary>The default route of a service port without a VirtualService.</summary>
    public static Route Default(string hostname, int port) => new()
    {
        Name = "default",
        Destinations = [new WeightedCluster { Cluster = MeshModel.ClusterName(port, null, hostname), Weight = 100 }],
        // Istio gives the default route its default retry policy too.
        Retries = RetryBuilder.Default,
    };

    // Whether a match can apply to this proxy at this port: its gateways (if any), source labels, source namespace
    // and port are all known at generation time, so they are decided here rather than by the proxy.
    private static bool Applies(HTTPMatchRequest m, string vsNamespace, RouteContext ctx) =>
        (m.Gateways.Count == 0 || m.Gateways.Any(g => ctx.Gateways.Contains(GatewayRef(g, vsNamespace))))
        && Labels.Contains(ctx.Pod.Labels, m.SourceLabels)
        && (string.IsNullOrEmpty(m.SourceNamespace) || m.SourceNamespace == ctx.Pod.Namespace)
        && (m.Port is null || m.Port == ctx.Port);

    private static RouteMatch Convert(HTTPMatchRequest m) => new()
    {
        Uri = Convert(m.Uri),
        Method = Convert(m.Method),
        Authority = Convert(m.Authority),
        Scheme = Convert(m.Scheme),
        Headers = StableDictionary.From(m.Headers, k => k.ToLowerInvariant(), v => Convert(v)!),
        WithoutHeaders = StableDictionary.From(m.WithoutHeaders, k => k.ToLowerInvariant(), v => Convert(v)!),
        QueryParams = StableDictionary.From(m.QueryParams, k => k, v => Convert(v)!),
        IgnoreUriCase = m.IgnoreUriCase,
        // Port was decided above (the route table is per port), so the proxy need not compare listener ports.
        Port = null,
    };

    private static XStringMatch? Convert(Bowline.Api.Resources.StringMatch? s) =>
        s is null ? null : new XStringMatch { Exact = s.Exact, Prefix = s.Prefix, Regex = s.Regex };

    private static ImmutableArray<WeightedCluster> Destinations(
        MeshModel mesh, IReadOnlyList<HTTPRouteDestination> route, string vsNamespace, int contextPort)
    {
        var anyWeight = route.Any(d => d.Weight is not null);
        var result = ImmutableArray.CreateBuilder<WeightedCluster>(route.Count);
        for (var i = 0; i < route.Count; i++)
        {
            var d = route[i];
            int weight;
            if (route.Count == 1)
            {
                weight = d.Weight is > 0 and var w ? w : 100;
            }
            else if (anyWeight)
            {
                weight = d.Weight ?? 0;
            }
            else
            {
                // No weights at all: split evenly, the remainder to the first.
                weight = (100 / route.Count) + (i == 0 ? 100 % route.Count : 0);
            }

            result.Add(new WeightedCluster
            {
                Cluster = ClusterOf(mesh, d.Destination, vsNamespace, contextPort),
                Weight = weight,
                Headers = HeaderPolicyBuilder.Build(d.Headers),
            });
        }

        return result.MoveToImmutable();
    }

    /// <summary>The cluster a destination (host, optional subset, optional port) resolves to — for routes and mirrors alike.</summary>
    internal static string ClusterOf(MeshModel mesh, Destination destination, string vsNamespace, int contextPort)
    {
        var host = mesh.ResolveHost(destination.Host, vsNamespace);
        var port = destination.Port?.Number is { } n and > 0 ? n : DefaultPort(mesh.FindService(host), contextPort);
        return MeshModel.ClusterName(port, string.IsNullOrEmpty(destination.Subset) ? null : destination.Subset, host);
    }

    // Istio: the destination's only port; with several, the one the request came in on, else (our choice) the lowest.
    private static int DefaultPort(MeshService? service, int contextPort) => service switch
    {
        { Ports.Length: 1 } s => s.Ports[0].Number,
        { Ports.Length: > 1 } s => s.Port(contextPort) is null ? s.Ports[0].Number : contextPort,
        _ => contextPort,
    };
}
