using System.Collections.Immutable;
using Bowline.Api.Registry;
using Bowline.Api.Resources;
using Bowline.Api.Xds;

namespace Bowline.ControlPlane.Generation;

/// <summary>
/// LocalRateLimit resources → the push contract's <see cref="LocalRateLimit"/> on one proxy's listeners and routes.
/// A resource applies to proxies of its own namespace (every namespace when it is in istio-system, Istio's root
/// namespace, as for an EnvoyFilter) whose labels its workloadSelector matches. The first in creation order wins
/// when several select the same proxy (or route).
/// </summary>
internal static class RateLimitBuilder
{
    public const string RootNamespace = "istio-system";

    /// <summary>What applies to <paramref name="pod"/>: a listener-wide limit and limits by route name.</summary>
    public sealed record ForPod(LocalRateLimit? Listener, ImmutableDictionary<string, LocalRateLimit> Routes)
    {
        public static ForPod None { get; } = new(null, ImmutableDictionary<string, LocalRateLimit>.Empty);
    }

    public static ForPod For(IReadOnlyList<LocalRateLimitResource> resources, LocalPod pod)
    {
        if (resources.Count == 0)
        {
            return ForPod.None;
        }

        LocalRateLimit? listener = null;
        var routes = ImmutableDictionary.CreateBuilder<string, LocalRateLimit>(StringComparer.Ordinal);
        foreach (var resource in resources)
        {
            var ns = resource.EffectiveNamespace;
            if ((ns != pod.Namespace && ns != RootNamespace)
                || !Labels.Contains(pod.Labels, resource.Spec.WorkloadSelector?.Labels ?? ImmutableDictionary<string, string>.Empty)
                || Convert(resource) is not { } limit)
            {
                continue;
            }

            if (resource.Spec.Routes.Count == 0)
            {
                listener ??= limit;
            }

            foreach (var route in resource.Spec.Routes)
            {
                routes.TryAdd(route, limit);
            }
        }

        return new ForPod(listener, routes.ToImmutable());
    }

    /// <summary>Routes named by a limit get it; the others are returned unchanged (the same objects).</summary>
    public static RouteTable Apply(RouteTable table, ImmutableDictionary<string, LocalRateLimit> byRoute)
    {
        if (byRoute.IsEmpty)
        {
            return table;
        }

        return table with
        {
            VirtualHosts = [.. table.VirtualHosts.Select(host => host with
            {
                Routes = [.. host.Routes.Select(route =>
                    route.Name is { } name && byRoute.TryGetValue(name, out var limit) ? route with { RateLimit = limit } : route)],
            })],
        };
    }

    private static LocalRateLimit? Convert(LocalRateLimitResource resource) =>
        resource.Spec.TokenBucket is { MaxTokens: { } max, FillInterval: { } interval } bucket
            ? new LocalRateLimit
            {
                Name = $"{resource.EffectiveNamespace}/{resource.Metadata.Name}",
                MaxTokens = max,
                TokensPerFill = bucket.TokensPerFill ?? 1,
                FillInterval = interval,
            }
            : null; // refused by validation before it gets here
}
