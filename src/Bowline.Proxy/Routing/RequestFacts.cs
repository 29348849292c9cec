using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Routing;

/// <summary>What route matching reads from one request, computed once per request.</summary>
/// <param name="Request">The downstream request (headers, method, query).</param>
/// <param name="Path">The raw path, without the query string (Envoy matches path rules on it).</param>
/// <param name="Authority">The request's authority (Host / :authority), the virtual-host key.</param>
/// <param name="Port">The listener port the request arrived on.</param>
internal readonly ref struct RequestFacts(HttpRequest Request, ReadOnlySpan<char> Path, string Authority, int Port)
{
    public HttpRequest Request { get; } = Request;
    public ReadOnlySpan<char> Path { get; } = Path;
    public string Authority { get; } = Authority;
    public int Port { get; } = Port;
}
