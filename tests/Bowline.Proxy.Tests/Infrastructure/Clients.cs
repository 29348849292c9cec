using System.Net;

namespace Bowline.Proxy.Tests.Infrastructure;

internal static class Clients
{
    /// <summary>An HttpClient that reaches everything through an outbound listener, as apps do with HTTP_PROXY.</summary>
    public static HttpClient ViaProxy(Uri proxy) => new(new SocketsHttpHandler
    {
        Proxy = new WebProxy(proxy),
        UseProxy = true,
        AllowAutoRedirect = false,
    })
    { Timeout = TimeSpan.FromSeconds(30) };

    public static HttpClient Direct(Version? version = null) => new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false })
    {
        Timeout = TimeSpan.FromSeconds(30),
        DefaultRequestVersion = version ?? HttpVersion.Version11,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };
}
