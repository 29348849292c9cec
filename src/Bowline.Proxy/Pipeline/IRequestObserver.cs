using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Pipeline;

/// <summary>Told about every finished request (its <see cref="ProxyRequestFeature"/> is set): where access logs and metrics plug in.</summary>
internal interface IRequestObserver
{
    void OnRequestCompleted(HttpContext context);
}
