namespace Bowline.Api.Resources;

/// <summary>
/// A Kubernetes Secret, read for Gateway <c>credentialName</c> (what <c>kubectl create secret tls ... -o yaml</c>
/// prints). Lenient like the other Kubernetes kinds: immutable, ownerReferences and the like are ignored.
/// </summary>
[LenientFields]
public sealed record KubeSecret : Resource
{
    /// <summary>kubernetes.io/tls, Opaque (the default), or any other type (then not read by Bowline).</summary>
    public string? Type { get; init; }

    /// <summary>Base64 values, as the API server stores them.</summary>
    public IReadOnlyDictionary<string, string> Data { get; init; } = new Dictionary<string, string>();

    /// <summary>Plain-text values; on a clash the API server lets stringData win over data.</summary>
    public IReadOnlyDictionary<string, string> StringData { get; init; } = new Dictionary<string, string>();
}
