namespace Bowline.Api.Resources;

/// <summary>
/// A Kubernetes ConfigMap. Bowline reads one: <c>istio</c> in the root namespace, whose <c>data.mesh</c> is Istio's
/// MeshConfig as embedded YAML (parsed into <see cref="Mesh"/> when the document is read). Others are kept, unused.
/// </summary>
[LenientFields]
public sealed record ConfigMap : Resource
{
    /// <summary>The ConfigMap Istio reads its MeshConfig from, and the key holding it.</summary>
    public const string MeshName = "istio";
    public const string MeshNamespace = "istio-system";
    public const string MeshKey = "mesh";

    public IReadOnlyDictionary<string, string> Data { get; init; } = new Dictionary<string, string>();

    /// <summary>data.mesh parsed, for the mesh ConfigMap; not a YAML field (its setter is not public).</summary>
    public MeshConfig? Mesh { get; internal init; }

    public bool IsMeshConfig => Metadata.Name == MeshName && EffectiveNamespace == MeshNamespace;
}
