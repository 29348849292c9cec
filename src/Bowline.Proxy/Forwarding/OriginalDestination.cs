using System.Net;
using Bowline.Proxy.LoadBalancing;
using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Forwarding;

/// <summary>
/// Envoy's ORIGINAL_DST for a proxy reached through HTTP_PROXY: with no iptables redirect there is no original
/// destination address, but the app named it — the absolute URI's authority, which Kestrel makes the Host. That
/// host:port (port 80 when none) is where the request goes; a name is resolved when the connection is made.
/// </summary>
internal static class OriginalDestination
{
    /// <summary>The endpoint the app asked for, or null when there is none or it is this very listener (a loop).</summary>
    public static UpstreamEndpoint? Of(HttpContext context)
    {
        var host = context.Request.Host;
        if (!host.HasValue || host.Host.Length == 0)
        {
            return null;
        }

        var address = host.Host;
        if (address.Length > 2 && address[0] == '[' && address[^1] == ']')
        {
            address = address[1..^1];
        }

        var port = host.Port ?? 80;
        if (port == context.Connection.LocalPort && IsLocal(address, context.Connection.LocalIpAddress))
        {
            // Forwarding to ourselves would loop until the connection limit is hit.
            return null;
        }

        return new UpstreamEndpoint(address, port, pod: null);
    }

    private static bool IsLocal(string address, IPAddress? local) =>
        address.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(address, out var ip) && (ip.Equals(local) || IPAddress.IsLoopback(ip) && local is not null && IPAddress.IsLoopback(local)));
}
