using System.Net;
using System.Net.Sockets;

namespace Bowline.Proxy.LoadBalancing;

/// <summary>One endpoint of a cluster, with its URI prefix precomputed (requests append the origin-form target).</summary>
internal sealed class UpstreamEndpoint
{
    public UpstreamEndpoint(string address, int port, string? pod)
    {
        Address = address;
        Port = port;
        Pod = pod;
        var host = IPAddress.TryParse(address, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address;
        UriPrefix = $"http://{host}:{port}";
    }

    public string Address { get; }
    public int Port { get; }
    public string? Pod { get; }
    public string UriPrefix { get; }
}
