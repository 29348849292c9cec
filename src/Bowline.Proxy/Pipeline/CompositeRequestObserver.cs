using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Pipeline;

/// <summary>
/// Several observers (metrics, access log, tracing) behind the one <see cref="IRequestObserver"/> a listener calls, in
/// registration order. One that throws does not keep the others from seeing the request.
/// </summary>
internal sealed class CompositeRequestObserver(params IRequestObserver[] observers) : IRequestObserver
{
    private readonly IRequestObserver[] _observers = observers;

    /// <summary>Null for none, the observer itself for one, a composite otherwise.</summary>
    public static IRequestObserver? Of(params IRequestObserver?[] observers)
    {
        var present = observers.Where(o => o is not null).Cast<IRequestObserver>().ToArray();
        return present.Length switch
        {
            0 => null,
            1 => present[0],
            _ => new CompositeRequestObserver(present),
        };
    }

    public void OnRequestCompleted(HttpContext context)
    {
        foreach (var observer in _observers)
        {
            try
            {
                observer.OnRequestCompleted(context);
            }
            catch (Exception)
            {
                // Reporting must never fail a request that is already answered; the other observers still run.
            }
        }
    }
}
