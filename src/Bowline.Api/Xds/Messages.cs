namespace Bowline.Api.Xds;

/// <summary>
/// The push protocol, modelled on xDS state-of-the-world: one WebSocket per proxy at <see cref="Path"/>,
/// each message one JSON text frame (see <see cref="XdsJson"/>).
/// <list type="number">
/// <item>The proxy connects and sends a <see cref="DiscoveryRequest"/> with <see cref="DiscoveryRequest.Node"/>,
/// its last applied version (null if none) and no nonce.</item>
/// <item>The control plane answers with a <see cref="DiscoveryResponse"/> whenever the proxy's config differs from
/// what the proxy last applied, and again on every later change that affects it.</item>
/// <item>The proxy answers every response with a request carrying that response's nonce: ACK
/// (<see cref="DiscoveryRequest.ErrorDetail"/> null, <see cref="DiscoveryRequest.VersionInfo"/> = the new version)
/// or NACK (ErrorDetail = the reason, VersionInfo = the version it still runs).</item>
/// </list>
/// A proxy that loses the stream keeps serving its last good config and reconnects with capped exponential backoff.
/// </summary>
public static class XdsProtocol
{
    public const string Path = "/xds/v1/stream";
}

public sealed record Node
{
    /// <summary>Unique proxy id: "{pod}.{namespace}", e.g. "reviews-v1-0.default", "istio-ingressgateway-0.istio-system".</summary>
    public required string Id { get; init; }
    public required string Pod { get; init; }
    public required string Namespace { get; init; }
}

public sealed record DiscoveryRequest
{
    public required Node Node { get; init; }
    /// <summary>The version the proxy runs now (null before its first config).</summary>
    public string? VersionInfo { get; init; }
    /// <summary>Nonce of the response this request answers; null on the first request of a stream.</summary>
    public string? ResponseNonce { get; init; }
    /// <summary>Set on a NACK: why the config was rejected.</summary>
    public string? ErrorDetail { get; init; }
}

public sealed record DiscoveryResponse
{
    public required string Version { get; init; }
    public required string Nonce { get; init; }
    public required ProxyConfig Config { get; init; }
}
