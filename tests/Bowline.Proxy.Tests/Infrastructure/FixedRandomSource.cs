using Bowline.Proxy.LoadBalancing;

namespace Bowline.Proxy.Tests.Infrastructure;

/// <summary>A random source that always answers the same draw (clamped below the bound).</summary>
internal sealed class FixedRandomSource(int value) : IRandomSource
{
    public int Next(int maxExclusive) => Math.Min(value, maxExclusive - 1);
}
