using Bowline.Api.Xds;

namespace Bowline.Proxy.RateLimit;

/// <summary>
/// Envoy's local rate limit token bucket, lock-free: the whole state is one long (fill index in the high 32 bits,
/// tokens in the low 32) updated with compare-and-swap. Fills are not driven by a timer: the number of whole fill
/// intervals since creation is computed from the clock on each request, and the fills missed since the last request
/// are added then (capped at the maximum), which is what a timer adding tokens_per_fill every fill_interval would
/// have left in the bucket.
/// </summary>
internal sealed class TokenBucket
{
    private readonly TimeProvider _time;
    private readonly long _origin;
    private readonly long _intervalTicks;
    private readonly long _max;
    private readonly long _perFill;
    /// <summary>Fills that refill an empty bucket completely; more than that is the same as this many.</summary>
    private readonly long _fillsToFull;
    private long _state;
    private long _allowed;
    private long _limited;

    public TokenBucket(string name, LocalRateLimit config, TimeProvider time)
    {
        Name = name;
        _time = time;
        _origin = time.GetTimestamp();
        _intervalTicks = config.FillInterval.Ticks;
        _max = config.MaxTokens;
        _perFill = config.TokensPerFill;
        _fillsToFull = (_max + _perFill - 1) / _perFill;
        _state = _max; // fill index 0, full
    }

    public string Name { get; }

    /// <summary>Requests that got a token (Envoy's http_local_rate_limit.ok).</summary>
    public long Allowed => Interlocked.Read(ref _allowed);

    /// <summary>Requests refused (Envoy's http_local_rate_limit.rate_limited).</summary>
    public long Limited => Interlocked.Read(ref _limited);

    /// <summary>Takes a token if there is one.</summary>
    public bool TryTake()
    {
        // uint: the index wraps after 2^32 intervals (6.8 years at Envoy's 50 ms minimum); differences stay right.
        var now = (uint)(_time.GetElapsedTime(_origin).Ticks / _intervalTicks);
        while (true)
        {
            var state = Volatile.Read(ref _state);
            var last = (uint)(state >>> 32);
            var tokens = (long)(uint)state;
            // Another request may already have stored a later index than the one this request read from the clock.
            var elapsed = (int)(now - last) > 0 ? (long)(now - last) : 0;
            var index = elapsed > 0 ? now : last;
            var available = elapsed >= _fillsToFull ? _max : Math.Min(_max, tokens + (elapsed * _perFill));
            if (available == 0)
            {
                Interlocked.Increment(ref _limited);
                return false;
            }

            var next = ((long)index << 32) | (available - 1);
            if (Interlocked.CompareExchange(ref _state, next, state) == state)
            {
                Interlocked.Increment(ref _allowed);
                return true;
            }
        }
    }
}
