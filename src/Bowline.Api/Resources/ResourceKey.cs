namespace Bowline.Api.Resources;

/// <summary>What identifies a resource in a config: two resources with the same key cannot be applied together.</summary>
public readonly record struct ResourceKey(string Kind, string Namespace, string Name)
{
    public override string ToString() => $"{Kind} {Namespace}/{Name}";
}

public static class ResourceKeyExtensions
{
    public static ResourceKey Key(this Resource resource) =>
        new(resource.Kind, resource.EffectiveNamespace, resource.Metadata.Name);
}
