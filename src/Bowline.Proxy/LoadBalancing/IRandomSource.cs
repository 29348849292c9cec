namespace Bowline.Proxy.LoadBalancing;

/// <summary>The random draw behind weighted choices; a seam so tests can be deterministic.</summary>
internal interface IRandomSource
{
    /// <summary>A value in [0, maxExclusive).</summary>
    int Next(int maxExclusive);
}

internal sealed class SharedRandomSource : IRandomSource
{
    public static readonly SharedRandomSource Instance = new();

    public int Next(int maxExclusive) => Random.Shared.Next(maxExclusive);
}
