using System.Collections.Concurrent;

namespace Httpbin;

/// <summary>
/// What this pod knows about itself and has served. Counters are per process, so each replica keeps its own:
/// that is what makes <c>/cycle</c> deterministic per pod and <c>/stats</c> show what reached this pod.
/// </summary>
internal sealed class PodInfo
{
    private readonly ConcurrentDictionary<string, long> _cycles = new(StringComparer.Ordinal);
    private long _requests;
    private long _shadowRequests;

    public string Name { get; } = Environment.GetEnvironmentVariable("POD_NAME") is { Length: > 0 } pod ? pod : Environment.MachineName;
    public string? Version { get; } = Environment.GetEnvironmentVariable("SERVICE_VERSION");
    public long Requests => Interlocked.Read(ref _requests);
    public long ShadowRequests => Interlocked.Read(ref _shadowRequests);

    /// <summary>Counts a request; mirrored copies arrive with "-shadow" appended to the host (Envoy's mirror policy).</summary>
    public void Count(HttpRequest request)
    {
        Interlocked.Increment(ref _requests);
        var host = request.Host.Host;
        if (host.EndsWith("-shadow", StringComparison.OrdinalIgnoreCase))
        {
            Interlocked.Increment(ref _shadowRequests);
        }
    }

    /// <summary>The n-th call (from 0) for this key on this pod.</summary>
    public long NextCycle(string key) => _cycles.AddOrUpdate(key, 0, (_, n) => n + 1);
}
