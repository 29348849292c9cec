using System.Collections.Concurrent;

namespace Bowline.Proxy.LoadBalancing;

/// <summary>Every cluster's <see cref="ClusterStats"/> by name; looked up at config compile time, never per request.</summary>
internal sealed class ClusterStatsRegistry
{
    private readonly ConcurrentDictionary<string, ClusterStats> _byCluster = new(StringComparer.Ordinal);

    public ClusterStats For(string cluster) => _byCluster.GetOrAdd(cluster, static _ => new ClusterStats());

    /// <summary>The counters of a cluster, or null when no config has had it.</summary>
    public ClusterStats? Find(string cluster) => _byCluster.GetValueOrDefault(cluster);
}
