using System.Collections.Immutable;
using Bowline.Api.Registry;
using Bowline.Api.Resources;
using Bowline.Api.Xds;

namespace Bowline.ControlPlane.Generation;

/// <summary>
/// LocalRateLimit resources and EnvoyFilter local_ratelimit patches → the push contract's <see cref="LocalRateLimit"/> on one proxy's listeners and routes.
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

    public static ForPod For(IReadOnlyList<RateLimitRule> rules, LocalPod pod)
    {
        if (rules.Count == 0)
        {
            return ForPod.None;
        }

        var wanted = pod.Role == ProxyRole.Gateway ? RateLimitScope.Gateway : RateLimitScope.SidecarInbound;
        LocalRateLimit? listener = null;
        var routes = ImmutableDictionary.CreateBuilder<string, LocalRateLimit>(StringComparer.Ordinal);
        foreach (var rule in rules)
        {
            if ((rule.Namespace != pod.Namespace && rule.Namespace != RootNamespace)
                || (rule.Scope != RateLimitScope.Any && rule.Scope != wanted)
                || !Labels.Contains(pod.Labels, rule.Selector))
            {
                continue;
            }

            if (rule.Routes.Count == 0)
            {
                listener ??= rule.Limit;
            }

            foreach (var route in rule.Routes)
            {
                routes.TryAdd(route, rule.Limit);
            }
        }

        return new ForPod(listener, routes.ToImmutable());
    }

    /// <summary>LocalRateLimit resources and EnvoyFilter local_ratelimit patches as rules, in creation order.</summary>
    public static IReadOnlyList<RateLimitRule> Rules(IEnumerable<Resource> resources)
    {
        var rules = new List<RateLimitRule>();
        foreach (var resource in resources)
        {
            var ns = resource.EffectiveNamespace;
            switch (resource)
            {
                case LocalRateLimitResource { Spec.TokenBucket: { MaxTokens: { } max, FillInterval: { } interval } bucket } limit:
                    rules.Add(new RateLimitRule(ns, limit.Spec.WorkloadSelector?.Labels ?? Empty, RateLimitScope.Any, limit.Spec.Routes,
                        new LocalRateLimit { Name = $"{ns}/{limit.Metadata.Name}", MaxTokens = max, TokensPerFill = bucket.TokensPerFill ?? 1, FillInterval = interval }));
                    break;
                case EnvoyFilter filter:
                    foreach (var found in EnvoyFilterRateLimits.Read(filter.Spec).Limits)
                    {
                        rules.Add(new RateLimitRule(ns, filter.Spec.WorkloadSelector?.Labels ?? Empty, found.Scope,
                            found.Route is { } route ? [route] : [],
                            new LocalRateLimit
                            {
                                Name = $"{ns}/{filter.Metadata.Name}",
                                MaxTokens = found.MaxTokens,
                                TokensPerFill = found.TokensPerFill,
                                FillInterval = found.FillInterval,
                            }));
                    }

                    break;
            }
        }

        return rules;
    }

    private static readonly IReadOnlyDictionary<string, string> Empty = ImmutableDictionary<string, string>.Empty;

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
}

/// <summary>One local rate limit: which proxies (namespace, labels, scope), which routes (none: all), the bucket.</summary>
internal sealed record RateLimitRule(string Namespace, IReadOnlyDictionary<string, string> Selector, RateLimitScope Scope, IReadOnlyList<string> Routes, LocalRateLimit Limit);
