using System.Collections.Immutable;
using System.Text.Json.Serialization;

namespace Bowline.Cli.Mesh;

/// <summary><c>$BOWLINE_HOME/mesh.json</c>: how the other commands find the mesh a running <c>bowline up</c> started.</summary>
internal sealed record MeshInfo
{
    public required string ControlPlane { get; init; }
    /// <summary>The pid of <c>bowline up</c>; a mesh.json whose pid is gone is stale.</summary>
    public required int Pid { get; init; }
    /// <summary>The control plane's pid, for scripts and tests that need to stop or inspect it.</summary>
    public int ControlPlanePid { get; init; }
    public required string StateDir { get; init; }
    public ImmutableArray<MeshGateway> Gateways { get; init; } = [];
    public ImmutableArray<MeshProxy> Proxies { get; init; } = [];
    /// <summary>The local Prometheus' URL ("http://127.0.0.1:port"), when up started one.</summary>
    public string? Prometheus { get; init; }
}

internal sealed record MeshGateway(int Port, string Address);

internal sealed record MeshProxy(string Name, string Admin);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true)]
[JsonSerializable(typeof(MeshInfo))]
internal sealed partial class CliJson : JsonSerializerContext;
