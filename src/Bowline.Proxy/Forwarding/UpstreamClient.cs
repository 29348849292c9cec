namespace Bowline.Proxy.Forwarding;

/// <summary>The one connection pool to every upstream: keep-alive connections shared by all listeners and configs.</summary>
internal static class UpstreamClient
{
    public static HttpMessageInvoker Create() => new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        UseCookies = false,
        AutomaticDecompression = System.Net.DecompressionMethods.None,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
        EnableMultipleHttp2Connections = true,
        // traceparent and x-b3-* pass through untouched: the proxy is no tracing participant of its own.
        ActivityHeadersPropagator = null,
    }, disposeHandler: true);
}
