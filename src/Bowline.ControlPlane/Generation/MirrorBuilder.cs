using System.Collections.Immutable;
using Bowline.Api.Resources;
using Bowline.Api.Xds;

namespace Bowline.ControlPlane.Generation;

/// <summary>Translates a VirtualService route's <c>mirror</c> / <c>mirrors</c> into the pushed <see cref="MirrorPolicy"/> list.</summary>
internal static class MirrorBuilder
{
    /// <param name="cluster">Resolves a destination (host, subset, port) to its cluster name, exactly as route destinations do.</param>
    public static ImmutableArray<MirrorPolicy> Build(HTTPRoute http, Func<Destination, string> cluster)
    {
        if (http.Mirror is null && http.Mirrors.Count == 0)
        {
            return [];
        }

        var result = ImmutableArray.CreateBuilder<MirrorPolicy>(http.Mirrors.Count + 1);
        if (http.Mirror is { } mirror)
        {
            // mirrorPercentage.value wins over the deprecated integer mirrorPercent; with neither, Istio mirrors all.
            result.Add(new MirrorPolicy { Cluster = cluster(mirror), Percentage = http.MirrorPercentage?.Value ?? http.MirrorPercent ?? 100 });
        }

        foreach (var m in http.Mirrors)
        {
            result.Add(new MirrorPolicy { Cluster = cluster(m.Destination), Percentage = m.Percentage?.Value ?? 100 });
        }

        return result.ToImmutable();
    }
}
