using Bowline.Proxy.Config;
using Bowline.Proxy.LoadBalancing;

namespace Bowline.Proxy.Routing;

/// <summary>One mirror policy of a route: which cluster gets the copy and how often.</summary>
internal sealed class CompiledMirror
{
    // Same resolution as fault percentages: Istio hands Envoy fractions per million.
    private const int PerMillion = 1_000_000;

    private readonly int _threshold;

    private CompiledMirror(CompiledCluster cluster, int threshold)
    {
        Cluster = cluster;
        _threshold = threshold;
    }

    public CompiledCluster Cluster { get; }

    /// <exception cref="ConfigException">The percentage is outside 0–100.</exception>
    public static CompiledMirror Compile(CompiledCluster cluster, double percentage, string where)
    {
        if (double.IsNaN(percentage) || percentage is < 0 or > 100)
        {
            throw new ConfigException($"{where}: percentage {percentage.ToString(System.Globalization.CultureInfo.InvariantCulture)} is out of range 0-100");
        }

        return new CompiledMirror(cluster, (int)Math.Round(percentage * (PerMillion / 100)));
    }

    /// <summary>Whether this request is copied; 0% and 100% take no draw, keeping a seeded random's sequence for the rest.</summary>
    public bool Draw(IRandomSource random) =>
        _threshold >= PerMillion || (_threshold > 0 && random.Next(PerMillion) < _threshold);
}
