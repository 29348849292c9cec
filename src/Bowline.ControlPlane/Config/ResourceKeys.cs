using Bowline.Api.Resources;

namespace Bowline.ControlPlane.Config;

internal static class ResourceKeys
{
    /// <summary>Ordinal order by kind, namespace, name: the store's (and the resources listing's) order.</summary>
    public static IComparer<ResourceKey> Order { get; } = Comparer<ResourceKey>.Create((a, b) =>
    {
        var c = string.CompareOrdinal(a.Kind, b.Kind);
        if (c == 0)
        {
            c = string.CompareOrdinal(a.Namespace, b.Namespace);
        }

        return c != 0 ? c : string.CompareOrdinal(a.Name, b.Name);
    });

    /// <summary>kubectl's "kind.group/name", e.g. "virtualservice.networking.istio.io/reviews".</summary>
    public static string KubectlName(this ResourceKey key) => $"{KindNames.Qualified(key.Kind)}/{key.Name}";
}
