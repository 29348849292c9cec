using System.Collections.Immutable;
using System.Text.Json.Serialization;

namespace Bowline.Api.Management;

/// <summary>
/// The control plane's HTTP API, used by the CLI like any client. JSON bodies (see <see cref="ManagementJson"/>).
/// <list type="bullet">
/// <item><c>GET  /healthz/ready</c> — 200 once config and registry are loaded.</item>
/// <item><c>POST /api/v1/apply</c>  body <see cref="ConfigFiles"/> → 200 <see cref="ApplyResult"/> (applied), 400 <see cref="ApplyResult"/> (refused: nothing changed).</item>
/// <item><c>POST /api/v1/delete</c> body <see cref="ConfigFiles"/> → 200 / 400 <see cref="ApplyResult"/>.</item>
/// <item><c>GET  /api/v1/proxies</c> → <see cref="ProxyStatus"/>[].</item>
/// <item><c>GET  /api/v1/proxies/{id}/config</c> → the last ProxyConfig computed for that proxy (Xds JSON).</item>
/// <item><c>GET  /api/v1/resources</c> → <see cref="ResourceSummary"/>[] of the config store.</item>
/// </list>
/// </summary>
public static class ManagementApi
{
    public const string Ready = "/healthz/ready";
    public const string Apply = "/api/v1/apply";
    public const string Delete = "/api/v1/delete";
    public const string Proxies = "/api/v1/proxies";
    public const string Resources = "/api/v1/resources";
}

/// <summary>YAML files as the user gave them: names are kept so every message can say file:line.</summary>
public sealed record ConfigFiles
{
    public ImmutableArray<ConfigFile> Files { get; init; } = [];
}

public sealed record ConfigFile
{
    /// <summary>The path as the user typed it (relative or absolute); used verbatim in messages.</summary>
    public required string Name { get; init; }
    public required string Content { get; init; }
}

public sealed record ApplyResult
{
    /// <summary>kubectl-style lines: "virtualservice.networking.istio.io/reviews created" (configured, unchanged, deleted).</summary>
    public ImmutableArray<string> Changes { get; init; } = [];
    public ImmutableArray<string> Warnings { get; init; } = [];
    /// <summary>Non-empty means refused and nothing was changed.</summary>
    public ImmutableArray<string> Errors { get; init; } = [];
}

public sealed record ProxyStatus
{
    /// <summary>The proxy id, "{pod}.{namespace}".</summary>
    public required string Name { get; init; }
    public required string Workload { get; init; }
    public required string Namespace { get; init; }
    /// <summary>Version the proxy last ACKed (null if it never did).</summary>
    public string? Version { get; init; }
    /// <summary>SYNCED (ACKed the latest), STALE (latest sent, not yet ACKed), NACKED (rejected the latest), DISCONNECTED.</summary>
    public required string State { get; init; }
    /// <summary>Admin endpoint "host:port".</summary>
    public required string Admin { get; init; }
    /// <summary>The latest version the control plane computed for this proxy.</summary>
    public string? LatestVersion { get; init; }
    /// <summary>The NACK reason, when State is NACKED.</summary>
    public string? Error { get; init; }
}

public sealed record ResourceSummary
{
    public required string Kind { get; init; }
    public required string ApiVersion { get; init; }
    public required string Namespace { get; init; }
    public required string Name { get; init; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true)]
[JsonSerializable(typeof(ConfigFiles))]
[JsonSerializable(typeof(ApplyResult))]
[JsonSerializable(typeof(ProxyStatus[]))]
[JsonSerializable(typeof(ResourceSummary[]))]
public sealed partial class ManagementJson : JsonSerializerContext;
