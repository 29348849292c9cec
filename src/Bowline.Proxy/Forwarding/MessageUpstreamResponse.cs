using Bowline.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Forwarding;

/// <summary>An answer HttpClient got (HTTP/2, clusters with their own pool, original destinations).</summary>
internal sealed class MessageUpstreamResponse(HttpRequestMessage request, HttpResponseMessage response) : UpstreamResponse
{
    public override int StatusCode => (int)response.StatusCode;

    public override string? Header(string name) =>
        response.Headers.NonValidated.TryGetValues(name, out var values) && values.Count > 0 ? values.ToString() : null;

    public override Task CopyToAsync(HttpContext context, ProxyRequestFeature feature, ResponseEdits edits, CancellationTokenSource? timeout, CancellationToken token) =>
        Forwarder.CopyResponseAsync(context, feature, response, edits, timeout, token);

    public override void Dispose()
    {
        response.Dispose();
        request.Dispose();
    }
}
