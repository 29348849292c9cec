using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bowline.Api.Registry;

public enum ProxyRole
{
    Sidecar,
    Gateway,
}

/// <summary>
/// One running replica on this machine, as `bowline up` started it — the local stand-in for a Kubernetes Pod
/// (name, namespace, labels, and where its app and sidecar listen). Everything binds 127.0.0.1 on ports `up` picked.
/// </summary>
public sealed record LocalPod
{
    /// <summary>"{deployment}-{replica index}", e.g. "reviews-v1-0".</summary>
    public required string Name { get; init; }
    public required string Namespace { get; init; }
    /// <summary>The Deployment's name.</summary>
    public required string Workload { get; init; }
    /// <summary>The pod template's labels.</summary>
    public ImmutableDictionary<string, string> Labels { get; init; } = ImmutableDictionary<string, string>.Empty;
    public string ServiceAccount { get; init; } = "default";
    public ProxyRole Role { get; init; } = ProxyRole.Sidecar;
    public string Address { get; init; } = "127.0.0.1";
    /// <summary>The container ports and where each really listens.</summary>
    public ImmutableArray<LocalPodPort> Ports { get; init; } = [];
    /// <summary>Sidecar only: the listener apps reach through HTTP_PROXY.</summary>
    public int OutboundPort { get; init; }
    /// <summary>Gateway only: Gateway server port → the port actually bound (equal unless `up --gateway-ports auto`).</summary>
    public ImmutableDictionary<int, int> GatewayPorts { get; init; } = ImmutableDictionary<int, int>.Empty;
    /// <summary>The proxy's admin endpoint (ready, config dump, later stats).</summary>
    public int AdminPort { get; init; }
}

public sealed record LocalPodPort
{
    /// <summary>As declared in the manifest (containerPort), e.g. 9080 — what Service targetPorts name.</summary>
    public required int ContainerPort { get; init; }
    public string? Name { get; init; }
    /// <summary>Where the app process listens (given to it as PORT).</summary>
    public required int AppPort { get; init; }
    /// <summary>Where the sidecar's inbound listener for this port listens: the pod's endpoint address in the mesh.</summary>
    public required int InboundPort { get; init; }
}

/// <summary>The registry file `up` writes (state dir, "registry.json") and the control plane watches.</summary>
public sealed record LocalRegistry
{
    public ImmutableArray<LocalPod> Pods { get; init; } = [];

    public static LocalRegistry Read(string path) =>
        JsonSerializer.Deserialize(File.ReadAllBytes(path), RegistryJson.Default.LocalRegistry)
        ?? throw new InvalidDataException($"{path}: empty registry");

    public void Write(string path)
    {
        var tmp = path + ".tmp";
        File.WriteAllBytes(tmp, JsonSerializer.SerializeToUtf8Bytes(this, RegistryJson.Default.LocalRegistry));
        File.Move(tmp, path, overwrite: true);
    }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true,
    WriteIndented = true)]
[JsonSerializable(typeof(LocalRegistry))]
internal sealed partial class RegistryJson : JsonSerializerContext;
