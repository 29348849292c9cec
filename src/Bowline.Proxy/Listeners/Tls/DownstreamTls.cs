using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Listeners.Tls;

/// <summary>
/// Marks a connection whose TLS the proxy terminated. Request.Scheme cannot tell: h2c connections are dressed up as
/// TLS for Kestrel (see H2cPriorKnowledge) yet are cleartext.
/// </summary>
internal sealed class DownstreamTls
{
    public static readonly DownstreamTls Instance = new();

    private DownstreamTls()
    {
    }

    public static bool Of(HttpContext context) => context.Features.Get<DownstreamTls>() is not null;

    /// <summary>"https" or "http": the scheme the client used to reach this proxy.</summary>
    public static string Scheme(HttpContext context) => Of(context) ? "https" : "http";
}
