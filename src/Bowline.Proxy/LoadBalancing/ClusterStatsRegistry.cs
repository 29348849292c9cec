using System.Collections.Concurrent;

namespace Bowline.Proxy.LoadBalancing;

/// <summary>Every cluster's <see cref="ClusterState"/> by name; looked up at config compile time, never per request.</summary>
internal sealed class ClusterStatsRegistry : IDisposable
{
    private readonly ConcurrentDictionary<string, ClusterState> _byCluster = new(StringComparer.Ordinal);

    public ClusterState State(string cluster) => _byCluster.GetOrAdd(cluster, static _ => new ClusterState());

    public ClusterStats For(string cluster) => State(cluster).Stats;

    /// <summary>The counters of a cluster, or null when no config has had it.</summary>
    public ClusterStats? Find(string cluster) => _byCluster.GetValueOrDefault(cluster)?.Stats;

    /// <summary>Every cluster any config has had, with its counters (for the stats endpoint).</summary>
    public IEnumerable<(string Name, ClusterStats Stats)> All() => _byCluster.Select(kv => (kv.Key, kv.Value.Stats));

    public void Dispose()
    {
        foreach (var state in _byCluster.Values)
        {
            state.Dispose();
        }
    }
}
