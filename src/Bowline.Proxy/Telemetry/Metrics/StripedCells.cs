namespace Bowline.Proxy.Telemetry.Metrics;

/// <summary>
/// A fixed set of <c>long</c> counters, striped by processor: each core adds to its own copy with
/// <see cref="Interlocked.Add(ref long, long)"/>, so concurrent requests on different cores neither contend on a lock
/// nor bounce one cache line; a scrape sums the stripes. Each stripe starts on its own 64-byte line.
/// </summary>
internal sealed class StripedCells
{
    private static readonly int StripeCount = RoundUpToPowerOfTwo(Math.Clamp(Environment.ProcessorCount, 1, 16));
    private readonly long[] _cells;
    private readonly int _stride;

    public StripedCells(int count)
    {
        // Padded to whole cache lines (8 longs), plus one line so the first stripe does not share the array header's.
        _stride = (count + 7) & ~7;
        _cells = new long[(StripeCount * _stride) + 8];
        Count = count;
    }

    public int Count { get; }

    /// <summary>The offset of the calling core's stripe (Thread.GetCurrentProcessorId is a cached read, no syscall).</summary>
    public int Stripe => 8 + ((Thread.GetCurrentProcessorId() & (StripeCount - 1)) * _stride);

    public void Add(int stripe, int cell, long value) => Interlocked.Add(ref _cells[stripe + cell], value);

    public void Increment(int stripe, int cell) => Interlocked.Increment(ref _cells[stripe + cell]);

    /// <summary>One cell summed over the stripes (a scrape: not atomic across cells, each cell only grows).</summary>
    public long Read(int cell)
    {
        long sum = 0;
        for (var s = 0; s < StripeCount; s++)
        {
            sum += Interlocked.Read(ref _cells[8 + (s * _stride) + cell]);
        }

        return sum;
    }

    private static int RoundUpToPowerOfTwo(int n)
    {
        var p = 1;
        while (p < n)
        {
            p <<= 1;
        }

        return p;
    }
}
