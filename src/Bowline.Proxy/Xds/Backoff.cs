namespace Bowline.Proxy.Xds;

/// <summary>Capped exponential back-off with jitter, so a fleet of proxies does not reconnect in lockstep.</summary>
internal sealed class Backoff(TimeSpan initial, TimeSpan cap, Random random)
{
    private int _failures;

    /// <summary>The wait before the next attempt: a random point in [d/2, d], d doubling per failure up to the cap.</summary>
    public TimeSpan Next()
    {
        var ceiling = Math.Min(cap.TotalMilliseconds, initial.TotalMilliseconds * Math.Pow(2, Math.Min(_failures, 30)));
        _failures++;
        return TimeSpan.FromMilliseconds((ceiling / 2) + (random.NextDouble() * ceiling / 2));
    }

    public void Reset() => _failures = 0;
}
