using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Pipeline;

/// <summary>Told about every request: where access logs, tracing and metrics plug in.</summary>
internal interface IRequestObserver
{
    /// <summary>
    /// The listener was found (<see cref="ProxyRequestFeature.ListenerKind"/> set), nothing routed or forwarded yet:
    /// request headers changed here are what the upstream sees (trace context).
    /// </summary>
    void OnRequestStarting(HttpContext context, ProxyRequestFeature feature)
    {
    }

    /// <summary>The request is finished; <paramref name="feature"/> is what the proxy recorded about it.</summary>
    void OnRequestCompleted(HttpContext context, ProxyRequestFeature feature);
}
