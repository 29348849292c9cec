using Bowline.Api.Xds;
using Bowline.Proxy.LoadBalancing;
using Bowline.Proxy.Tests.Infrastructure;

namespace Bowline.Proxy.Tests;

public sealed class OutlierDetectorTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private static CompiledCluster Cluster(int endpoints, OutlierDetection outlier, ManualTimeProvider time, ClusterState? state = null, int firstPort = 1)
    {
        var cluster = new CompiledCluster(new Cluster
        {
            Name = "c",
            Endpoints = [.. Enumerable.Range(firstPort, endpoints).Select(p => new Endpoint { Address = "127.0.0.1", Port = p })],
            OutlierDetection = outlier,
        }, state, time);
        cluster.Outlier!.Start();
        return cluster;
    }

    private static void Fail(CompiledCluster cluster, int endpoint, int times, int status = 500)
    {
        for (var i = 0; i < times; i++)
        {
            cluster.Outlier!.Record(cluster.Endpoints[endpoint], status);
        }
    }

    private static void Sweeps(ManualTimeProvider time, int count)
    {
        for (var i = 0; i < count; i++)
        {
            time.Advance(Interval);
        }
    }

    private static int[] Available(CompiledCluster cluster) => [.. cluster.Outlier!.Hosts.Available.Select(e => e.Port)];

    [Fact]
    public void Record_FiveConsecutive5xx_EjectsForBaseEjectionTimeThenReturns()
    {
        var time = new ManualTimeProvider();
        var cluster = Cluster(2, new OutlierDetection { MaxEjectionPercent = 100 }, time);

        Fail(cluster, 0, 4);
        Assert.Equal([1, 2], Available(cluster));
        Fail(cluster, 0, 1);
        Assert.Equal([2], Available(cluster));
        Assert.Equal(1, cluster.Stats.Ejections);
        Assert.Same(cluster.Endpoints[1], cluster.PickEndpoint(null, new FixedRandomSource(0)));

        Sweeps(time, 2);
        Assert.Equal([2], Available(cluster));
        Sweeps(time, 1);
        Assert.Equal([1, 2], Available(cluster));
    }

    [Fact]
    public void Record_SuccessBetweenErrors_ResetsTheRun()
    {
        var time = new ManualTimeProvider();
        var cluster = Cluster(2, new OutlierDetection { MaxEjectionPercent = 100 }, time);

        Fail(cluster, 0, 4);
        Fail(cluster, 0, 1, status: 200);
        Fail(cluster, 0, 4);

        Assert.Equal([1, 2], Available(cluster));
    }

    [Fact]
    public void Record_EjectedAgain_EjectionTimeGrowsWithEachEjection()
    {
        var time = new ManualTimeProvider();
        var cluster = Cluster(2, new OutlierDetection { MaxEjectionPercent = 100 }, time);

        Fail(cluster, 0, 5);
        Sweeps(time, 3);
        Assert.Equal([1, 2], Available(cluster));

        // Second ejection: 2 × 30 s.
        Fail(cluster, 0, 5);
        Sweeps(time, 5);
        Assert.Equal([2], Available(cluster));
        Sweeps(time, 1);
        Assert.Equal([1, 2], Available(cluster));
        Assert.Equal(2, cluster.Stats.Ejections);
    }

    [Fact]
    public void Sweep_HealthyIntervals_ShortenTheNextEjectionAgain()
    {
        var time = new ManualTimeProvider();
        var cluster = Cluster(2, new OutlierDetection { MaxEjectionPercent = 100 }, time);
        Fail(cluster, 0, 5);
        Sweeps(time, 3);

        // One healthy sweep takes the multiplier back to 0, so the next ejection is 30 s again.
        Sweeps(time, 1);
        Fail(cluster, 0, 5);
        Sweeps(time, 3);

        Assert.Equal([1, 2], Available(cluster));
    }

    [Fact]
    public void Record_GatewayErrors_EjectOnlyWhenEnabled()
    {
        var time = new ManualTimeProvider();
        var cluster = Cluster(2, new OutlierDetection { Consecutive5xxErrors = 0, ConsecutiveGatewayErrors = 3, MaxEjectionPercent = 100 }, time);

        Fail(cluster, 0, 2, status: 502);
        Fail(cluster, 0, 1, status: 500);
        Fail(cluster, 0, 2, status: 503);
        Assert.Equal([1, 2], Available(cluster));

        Fail(cluster, 0, 1, status: 504);
        Assert.Equal([2], Available(cluster));
    }

    [Fact]
    public void Record_MaxEjectionPercent_NeverEjectsBeyondIt()
    {
        var time = new ManualTimeProvider();
        var cluster = Cluster(4, new OutlierDetection { MaxEjectionPercent = 50 }, time);

        Fail(cluster, 0, 5);
        Fail(cluster, 1, 5);
        Fail(cluster, 2, 5);

        Assert.Equal([3, 4], Available(cluster));
        Assert.Equal(2, cluster.Stats.Ejections);
    }

    [Fact]
    public void Record_IstioDefaultTenPercentWithTwoEndpoints_EjectsNothing()
    {
        // Envoy counts the endpoint about to be ejected: 1 of 2 is 50%, above the default 10%.
        var time = new ManualTimeProvider();
        var cluster = Cluster(2, new OutlierDetection(), time);

        Fail(cluster, 0, 10);

        Assert.Equal([1, 2], Available(cluster));
        Assert.Equal(0, cluster.Stats.Ejections);
    }

    [Fact]
    public void Hosts_HealthyBelowMinHealthPercent_PanicsAndUsesEveryEndpoint()
    {
        var time = new ManualTimeProvider();
        var cluster = Cluster(4, new OutlierDetection { MaxEjectionPercent = 100, MinHealthPercent = 50 }, time);

        Fail(cluster, 0, 5);
        Fail(cluster, 1, 5);
        Assert.Equal([3, 4], Available(cluster));

        Fail(cluster, 2, 5);
        Assert.True(cluster.Outlier!.Hosts.IgnoreEjections);
        Assert.Equal([1, 2, 3, 4], Available(cluster));
    }

    [Fact]
    public void Hosts_AllEjectedWithoutPanic_NoEndpointToPick()
    {
        var time = new ManualTimeProvider();
        var cluster = Cluster(1, new OutlierDetection { MaxEjectionPercent = 100 }, time);

        Fail(cluster, 0, 5);

        Assert.Null(cluster.PickEndpoint(null, new FixedRandomSource(0)));
    }

    [Fact]
    public void Compile_SameEndpointsInTheNextConfig_EjectionSurvives()
    {
        var time = new ManualTimeProvider();
        var state = new ClusterState();
        var settings = new OutlierDetection { MaxEjectionPercent = 100 };
        var first = Cluster(2, settings, time, state);
        Fail(first, 0, 5);
        first.Outlier!.Dispose();

        var second = Cluster(3, settings, time, state);

        Assert.Same(first.Endpoints[0], second.Endpoints[0]);
        Assert.Equal([2, 3], Available(second));
        Sweeps(time, 3);
        Assert.Equal([1, 2, 3], Available(second));
        Assert.Equal(0, time.PendingTimers - 1);
        second.Outlier!.Dispose();
    }
}
