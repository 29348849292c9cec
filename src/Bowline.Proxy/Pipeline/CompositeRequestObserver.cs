using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Pipeline;

/// <summary>
/// Several observers (tracing, metrics, access log) behind the one <see cref="IRequestObserver"/> a listener calls, in
/// registration order. A completed-request observer that throws does not keep the others from seeing the request.
/// </summary>
internal sealed class CompositeRequestObserver(params IRequestObserver[] observers) : IRequestObserver
{
    private readonly IRequestObserver[] _observers = observers;

    /// <summary>Null for none, the observer itself for one, a composite otherwise.</summary>
    public static IRequestObserver? Of(params IRequestObserver?[] observers)
    {
        var present = observers.OfType<IRequestObserver>().ToArray();
        return present.Length switch
        {
            0 => null,
            1 => present[0],
            _ => new CompositeRequestObserver(present),
        };
    }

    // Starting observers edit the request (trace headers) before it is forwarded: a failure there is the request's own.
    public void OnRequestStarting(HttpContext context, ProxyRequestFeature feature)
    {
        foreach (var observer in _observers)
        {
            observer.OnRequestStarting(context, feature);
        }
    }

    public void OnRequestCompleted(HttpContext context, ProxyRequestFeature feature)
    {
        foreach (var observer in _observers)
        {
            try
            {
                observer.OnRequestCompleted(context, feature);
            }
            catch (Exception)
            {
                // Reporting must never fail a request that is already answered; the other observers still run.
            }
        }
    }
}
