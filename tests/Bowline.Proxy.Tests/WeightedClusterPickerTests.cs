using Bowline.Api.Xds;
using Bowline.Proxy.LoadBalancing;

namespace Bowline.Proxy.Tests;

public sealed class WeightedClusterPickerTests
{
    [Theory]
    [InlineData(0, "a")]
    [InlineData(19, "a")]
    [InlineData(20, "b")]
    [InlineData(99, "b")]
    public void Pick_Draw_LandsInTheClustersWeightBand(int draw, string expected)
    {
        var picker = Picker(("a", 20), ("b", 80));

        Assert.Equal(expected, picker.Pick(new FixedRandom(draw)).Name);
    }

    [Fact]
    public void Pick_ZeroWeightCluster_IsNeverChosen()
    {
        var picker = Picker(("a", 0), ("b", 100));

        Assert.All(Enumerable.Range(0, 100), draw => Assert.Equal("b", picker.Pick(new FixedRandom(draw)).Name));
    }

    [Fact]
    public void Pick_SeededRandom_SplitsCloseToTheWeights()
    {
        var picker = Picker(("a", 25), ("b", 75));
        var random = new SeededRandom(7);

        var a = Enumerable.Range(0, 10_000).Count(_ => picker.Pick(random).Name == "a");

        Assert.InRange(a, 2300, 2700);
    }

    [Fact]
    public void PickEndpoint_RoundRobin_CyclesThroughEndpoints()
    {
        var cluster = new CompiledCluster(Infrastructure.Configs.Cluster("c", 1, 2, 3));

        var ports = Enumerable.Range(0, 6).Select(_ => cluster.PickEndpoint()!.Port).ToList();

        Assert.Equal([1, 2, 3, 1, 2, 3], ports);
    }

    private static WeightedClusterPicker Picker(params (string Name, int Weight)[] clusters) =>
        new([.. clusters.Select(c => (new CompiledCluster(new Cluster { Name = c.Name }), c.Weight))]);

    private sealed class FixedRandom(int value) : IRandomSource
    {
        public int Next(int maxExclusive) => value;
    }

    private sealed class SeededRandom(int seed) : IRandomSource
    {
        private readonly Random _random = new(seed);

        public int Next(int maxExclusive) => _random.Next(maxExclusive);
    }
}
