namespace Bowline.ControlPlane;

/// <summary>
/// Every log line the control plane writes, source-generated (no boxing or formatting when disabled). Kept concise:
/// one line per apply, push round, NACK, connect and disconnect — never one per request.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(LogLevel.Information, "control plane listening on {Listen}, state in {StateDir}")]
    public static partial void Listening(this ILogger log, string listen, string stateDir);

    [LoggerMessage(LogLevel.Information, "store: loaded {Count} resources from {Directory}")]
    public static partial void StoreLoaded(this ILogger log, int count, string directory);

    [LoggerMessage(LogLevel.Warning, "store: skipping {Path}: {Error}")]
    public static partial void StoreSkipped(this ILogger log, string path, string error);

    [LoggerMessage(LogLevel.Information, "{Operation} refused: {Count} errors")]
    public static partial void Refused(this ILogger log, string operation, int count);

    [LoggerMessage(LogLevel.Information, "apply: {Changed} changed, {Unchanged} unchanged, generation {Generation}")]
    public static partial void Applied(this ILogger log, int changed, int unchanged, long generation);

    [LoggerMessage(LogLevel.Information, "delete: {Deleted} deleted, {Missing} not found, generation {Generation}")]
    public static partial void Deleted(this ILogger log, int deleted, int missing, long generation);

    [LoggerMessage(LogLevel.Information, "registry: {Count} pods (generation {Generation})")]
    public static partial void RegistryLoaded(this ILogger log, int count, long generation);

    [LoggerMessage(LogLevel.Debug, "registry: {Path} not readable yet: {Message}")]
    public static partial void RegistryUnreadable(this ILogger log, string path, string message);

    [LoggerMessage(LogLevel.Information, "push: {Pushed} of {Connected} connected proxies updated (config {ConfigGeneration}, registry {RegistryGeneration}, {Elapsed} ms)")]
    public static partial void PushRound(this ILogger log, int pushed, int connected, long configGeneration, long registryGeneration, long elapsed);

    [LoggerMessage(LogLevel.Information, "xds: {Proxy} connected (runs {Version})")]
    public static partial void Connected(this ILogger log, string proxy, string version);

    [LoggerMessage(LogLevel.Information, "xds: {Proxy} disconnected{Reason}")]
    public static partial void Disconnected(this ILogger log, string proxy, string reason);

    [LoggerMessage(LogLevel.Warning, "xds: {Proxy} refused: {Reason}")]
    public static partial void ConnectRefused(this ILogger log, string proxy, string reason);

    [LoggerMessage(LogLevel.Warning, "xds: {Proxy} NACKed {Version}: {Reason}")]
    public static partial void Nack(this ILogger log, string proxy, string version, string reason);

    [LoggerMessage(LogLevel.Information, "xds: {Proxy} NACKed the delta to {Version} ({Reason}); sending it whole")]
    public static partial void DeltaNack(this ILogger log, string proxy, string version, string reason);

    [LoggerMessage(LogLevel.Warning, "config for {Proxy}: {Note}")]
    public static partial void GenerationNote(this ILogger log, string proxy, string note);
}
