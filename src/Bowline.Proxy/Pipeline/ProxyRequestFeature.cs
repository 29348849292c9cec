namespace Bowline.Proxy.Pipeline;

/// <summary>
/// Per-request proxy facts on <c>HttpContext.Features</c>, for whoever reports on the request afterwards (access log,
/// metrics): the response flags and where the request went.
/// </summary>
internal sealed class ProxyRequestFeature
{
    public ResponseFlags Flags { get; set; }
    public string? RouteName { get; set; }
    public string? ClusterName { get; set; }
    public string? UpstreamEndpoint { get; set; }

    /// <summary>A consistent-hash cookie the proxy generated, to set on the upstream response.</summary>
    public string? SetCookie { get; set; }

    /// <summary>The request holds one of its cluster's maxRetries slots, released when it ends.</summary>
    public bool HoldsRetrySlot { get; set; }
}
