namespace Bowline.Api.Resources;

/// <summary>A parsed config object: apiVersion/kind/metadata common to Istio and Kubernetes kinds.</summary>
public abstract record Resource
{
    public string ApiVersion { get; init; } = "";
    public string Kind { get; init; } = "";
    public ObjectMeta Metadata { get; init; } = new();

    /// <summary>Namespace, "default" when the manifest leaves it out (as kubectl would apply it).</summary>
    public string EffectiveNamespace => string.IsNullOrEmpty(Metadata.Namespace) ? "default" : Metadata.Namespace;
}

/// <summary>Kubernetes ObjectMeta: the fields Bowline reads, plus the server-set ones an exported manifest carries.</summary>
[LenientFields]
public sealed record ObjectMeta
{
    public string Name { get; init; } = "";
    public string? Namespace { get; init; }
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    public IReadOnlyDictionary<string, string> Annotations { get; init; } = new Dictionary<string, string>();
}

/// <summary>Unknown fields inside a type with this attribute are ignored rather than refused (Kubernetes kinds whose
/// full schema Bowline does not model: a manifest from a real cluster must still load).</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class LenientFieldsAttribute : Attribute;

/// <summary>Overrides the YAML field name when it is not the camelCase of the property name, or an enum member's
/// Istio name when it is not the UPPER_SNAKE of the member name (TLSV1_2 for Tlsv12).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field, Inherited = false)]
public sealed class YamlFieldAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

/// <summary>A Kubernetes int-or-string (e.g. a Service targetPort: 9080 or "http").</summary>
public sealed record IntOrString
{
    public int? Int { get; init; }
    public string? String { get; init; }

    public override string ToString() => Int?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? String ?? "";
}
