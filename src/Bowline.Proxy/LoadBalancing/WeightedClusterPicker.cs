namespace Bowline.Proxy.LoadBalancing;

/// <summary>A route's weighted destinations: a random draw over cumulative weights.</summary>
internal sealed class WeightedClusterPicker
{
    private readonly CompiledCluster[] _clusters;
    private readonly int[] _cumulative;
    private readonly int _total;

    public WeightedClusterPicker(IReadOnlyList<(CompiledCluster Cluster, int Weight)> destinations)
    {
        _clusters = new CompiledCluster[destinations.Count];
        _cumulative = new int[destinations.Count];
        for (var i = 0; i < destinations.Count; i++)
        {
            _clusters[i] = destinations[i].Cluster;
            _total += destinations[i].Weight;
            _cumulative[i] = _total;
        }
    }

    public CompiledCluster Pick(IRandomSource random) => _clusters[PickIndex(random)];

    public CompiledCluster this[int index] => _clusters[index];

    /// <summary>The drawn destination's index (in the route's destination order).</summary>
    public int PickIndex(IRandomSource random)
    {
        // A single destination (the common case) takes no draw, whatever its weight.
        if (_clusters.Length == 1 || _total <= 0)
        {
            return 0;
        }

        var draw = random.Next(_total);
        for (var i = 0; i < _cumulative.Length; i++)
        {
            if (draw < _cumulative[i])
            {
                return i;
            }
        }

        return _clusters.Length - 1;
    }
}
