using Bowline.Api.Xds;

namespace Bowline.Proxy.Config;

/// <summary>What the xDS client hands each pushed config to.</summary>
internal interface IConfigApplier
{
    /// <summary>Applies the config whole, or not at all.</summary>
    /// <returns>Null when applied (ACK); otherwise why it was rejected (NACK), the previous config still in use.</returns>
    Task<string?> ApplyAsync(string version, ProxyConfig config, CancellationToken cancellationToken);

    /// <summary>The version in use, null before the first config.</summary>
    string? CurrentVersion { get; }
}
