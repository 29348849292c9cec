using System.Net.Sockets;
using System.Text;
using Bowline.Api.Xds;
using Bowline.Proxy.Tests.Infrastructure;
using static Bowline.Proxy.Tests.Infrastructure.Configs;

namespace Bowline.Proxy.Tests.Http1;

/// <summary>Proxies in front of a <see cref="RawUpstream"/>, and a raw downstream client for heads HttpClient won't send.</summary>
internal static class Http1Proxy
{
    public const string Listener = "inbound|9080";

    /// <summary>
    /// An inbound listener straight to the upstream: plain HTTP/1.1, no connectionPool settings (Bowline's own client)
    /// unless <paramref name="cluster"/> edits the cluster.
    /// </summary>
    public static async Task<ProxyUnderTest> InboundAsync(int upstreamPort, Func<Cluster, Cluster>? cluster = null)
    {
        var proxy = new ProxyUnderTest();
        try
        {
            await proxy.ApplyAsync(ConfigOf([Inbound(Listener, "app")], [], [(cluster ?? (c => c))(Cluster("app", upstreamPort))]));
            return proxy;
        }
        catch
        {
            await proxy.DisposeAsync();
            throw;
        }
    }

    /// <summary>An outbound listener routing everything to the upstream with the given route.</summary>
    public static async Task<ProxyUnderTest> OutboundAsync(int upstreamPort, Func<Route, Route>? edit = null)
    {
        var proxy = new ProxyUnderTest();
        try
        {
            var route = (edit ?? (r => r))(Route("app"));
            await proxy.ApplyAsync(ConfigOf([Outbound()], [Table("outbound", Host("svc", ["*"], route))], [Cluster("app", upstreamPort)]));
            return proxy;
        }
        catch
        {
            await proxy.DisposeAsync();
            throw;
        }
    }

    public static Uri InboundUri(this ProxyUnderTest proxy, string path) => new(proxy.ListenerUri(Listener), path);

    /// <summary>Sends raw request bytes (the head should say Connection: close) and returns everything until the close.</summary>
    public static async Task<string> RawExchangeAsync(System.Net.IPEndPoint endpoint, string request)
    {
        using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endpoint);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await stream.WriteAsync(Encoding.Latin1.GetBytes(request));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var received = new MemoryStream();
        await stream.CopyToAsync(received, timeout.Token);
        return Encoding.Latin1.GetString(received.ToArray());
    }
}
