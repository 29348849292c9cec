using Bowline.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Forwarding;

/// <summary>
/// An upstream answer whose headers have arrived, whichever client got it: Bowline's own HTTP/1.1 connection
/// (<see cref="Http1.Http1Connection"/>) or HttpClient's message (<see cref="MessageUpstreamResponse"/>). The forwarder
/// decides retries on it and then has it copied downstream; disposing it ends the exchange.
/// </summary>
internal abstract class UpstreamResponse : IDisposable
{
    public abstract int StatusCode { get; }

    /// <summary>A response header's value (the first, if repeated); null when absent.</summary>
    public abstract string? Header(string name);

    /// <summary>Status, headers and the streamed body to the downstream response (see <see cref="Forwarder"/>).</summary>
    public abstract Task CopyToAsync(HttpContext context, ProxyRequestFeature feature, ResponseEdits edits, CancellationTokenSource? timeout, CancellationToken token);

    public abstract void Dispose();
}
