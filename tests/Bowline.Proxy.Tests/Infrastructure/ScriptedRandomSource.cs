using Bowline.Proxy.LoadBalancing;

namespace Bowline.Proxy.Tests.Infrastructure;

/// <summary>Answers the given draws in order, cycling (clamped below the bound).</summary>
internal sealed class ScriptedRandomSource(params int[] draws) : IRandomSource
{
    private int _next;

    public int Next(int maxExclusive) => Math.Min(draws[_next++ % draws.Length], maxExclusive - 1);
}

/// <summary>A seeded <see cref="Random"/>: varied draws, the same every run.</summary>
internal sealed class SeededRandomSource(int seed) : IRandomSource
{
    private readonly Random _random = new(seed);

    public int Next(int maxExclusive)
    {
        lock (_random)
        {
            return _random.Next(maxExclusive);
        }
    }
}
