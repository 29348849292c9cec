using Bowline.Api.Xds;

namespace Bowline.Proxy.Xds;

internal sealed record XdsClientOptions(Uri ControlPlane, Node Node)
{
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(100);
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>ws://host:port/xds/v1/stream for an http://host:port control plane.</summary>
    public Uri StreamUri => new UriBuilder(ControlPlane)
    {
        Scheme = ControlPlane.Scheme == Uri.UriSchemeHttps ? "wss" : "ws",
        Path = XdsProtocol.Path,
    }.Uri;
}
