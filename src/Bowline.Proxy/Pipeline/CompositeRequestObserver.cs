using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Pipeline;

/// <summary>Several observers as one (access log, tracing, metrics), told in order.</summary>
internal sealed class CompositeRequestObserver(IReadOnlyList<IRequestObserver> observers) : IRequestObserver
{
    /// <summary>Null for none, the observer itself for one, else a composite.</summary>
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

    public void OnRequestStarting(HttpContext context, ProxyRequestFeature feature)
    {
        foreach (var observer in observers)
        {
            observer.OnRequestStarting(context, feature);
        }
    }

    public void OnRequestCompleted(HttpContext context)
    {
        foreach (var observer in observers)
        {
            observer.OnRequestCompleted(context);
        }
    }
}
