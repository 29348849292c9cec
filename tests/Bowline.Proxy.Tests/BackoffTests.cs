using Bowline.Proxy.Xds;

namespace Bowline.Proxy.Tests;

public sealed class BackoffTests
{
    [Fact]
    public void Next_RepeatedFailures_GrowsExponentiallyWithJitterUpToTheCap()
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(2), new Random(42));

        var delays = Enumerable.Range(0, 10).Select(_ => backoff.Next().TotalMilliseconds).ToList();

        Assert.InRange(delays[0], 50, 100);
        Assert.InRange(delays[1], 100, 200);
        Assert.InRange(delays[2], 200, 400);
        Assert.All(delays.Skip(5), d => Assert.InRange(d, 1000, 2000));
    }

    [Fact]
    public void Reset_AfterFailures_StartsOverFromTheInitialDelay()
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(2), new Random(1));
        for (var i = 0; i < 5; i++)
        {
            backoff.Next();
        }

        backoff.Reset();

        Assert.InRange(backoff.Next().TotalMilliseconds, 50, 100);
    }
}
