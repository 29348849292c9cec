namespace Bowline.Proxy.LoadBalancing;

/// <summary>
/// The endpoints a cluster may pick from right now, published whole by the outlier detector when an ejection
/// starts or ends; the request path reads it with one volatile read.
/// </summary>
/// <param name="Available">Non-ejected endpoints — or all of them in panic.</param>
/// <param name="IgnoreEjections">Panic: too few healthy endpoints, so ejections are ignored (Envoy's panic threshold).</param>
internal sealed record HostSet(UpstreamEndpoint[] Available, bool IgnoreEjections)
{
    public bool IsAvailable(UpstreamEndpoint endpoint) => IgnoreEjections || !endpoint.Ejected;
}
