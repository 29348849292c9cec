using Bowline.Api.Yaml;

namespace Bowline.Api.Resources;

/// <summary>Istio's meshConfig.outboundTrafficPolicy.mode: what a sidecar does with a host the registry does not know.</summary>
public enum OutboundTrafficPolicyMode
{
    /// <summary>Istio's default: forward to the host the app asked for (Envoy's PassthroughCluster).</summary>
    AllowAny,
    /// <summary>Refuse it: 502 from the "block_all" virtual host (Istio's BlackHoleCluster).</summary>
    RegistryOnly,
}

/// <summary>
/// Istio's mesh-wide config, read from the ConfigMap "istio" in "istio-system" (key "mesh", a YAML document), as
/// istiod reads it. Only the fields Bowline acts on are modelled; the others in the document are ignored.
/// </summary>
public sealed record MeshConfig
{
    public const string ConfigMapName = "istio";
    public const string ConfigMapNamespace = "istio-system";
    public const string DataKey = "mesh";

    public static readonly MeshConfig Default = new();

    public OutboundTrafficPolicyMode OutboundTrafficPolicy { get; init; } = OutboundTrafficPolicyMode.AllowAny;

    public static bool IsMeshConfigMap(Resource resource) =>
        resource is KubeConfigMap && resource.Metadata.Name == ConfigMapName && resource.Metadata.Namespace == ConfigMapNamespace;

    /// <summary>The mesh config among <paramref name="resources"/> (the first "istio-system/istio" ConfigMap), else the defaults.</summary>
    public static MeshConfig From(IEnumerable<Resource> resources)
    {
        foreach (var r in resources)
        {
            if (IsMeshConfigMap(r) && ((KubeConfigMap)r).Data.TryGetValue(DataKey, out var mesh))
            {
                return Parse(mesh).Config;
            }
        }

        return Default;
    }

    /// <summary>Reads a mesh document; problems come back as messages ("outboundTrafficPolicy.mode: ...") and leave the defaults.</summary>
    public static (MeshConfig Config, IReadOnlyList<string> Errors) Parse(string meshYaml)
    {
        var errors = new List<string>();
        var config = Default;
        var (documents, syntax) = YamlTree.Load(meshYaml);
        if (syntax is not null)
        {
            errors.Add($"invalid YAML: {syntax.Message}");
            return (config, errors);
        }

        if (documents.Count == 0 || documents[0].Root is not YMapping root)
        {
            return (config, errors);
        }

        if (Field(root, "outboundTrafficPolicy") is { } policy)
        {
            if (policy is not YMapping policyMap)
            {
                errors.Add("outboundTrafficPolicy: expected a mapping");
            }
            else if (Field(policyMap, "mode") is { } mode)
            {
                switch (mode is YScalar s ? s.Value : null)
                {
                    case "ALLOW_ANY":
                        config = config with { OutboundTrafficPolicy = OutboundTrafficPolicyMode.AllowAny };
                        break;
                    case "REGISTRY_ONLY":
                        config = config with { OutboundTrafficPolicy = OutboundTrafficPolicyMode.RegistryOnly };
                        break;
                    case var other:
                        errors.Add($"outboundTrafficPolicy.mode: expected ALLOW_ANY or REGISTRY_ONLY, got \"{other}\"");
                        break;
                }
            }
        }

        return (config, errors);
    }

    private static YNode? Field(YMapping map, string name) =>
        map.Entries.FirstOrDefault(e => e.Key.Value == name).Value;
}
