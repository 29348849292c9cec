namespace Bowline.Proxy.Listeners.Tcp;

/// <summary>
/// Several TCP connection observers (metrics, a test's own) as one, told in order. One that throws does not keep the
/// others from hearing about the connection, nor break the connection's own cleanup.
/// </summary>
internal sealed class TcpObservers(ITcpConnectionObserver[] observers) : ITcpConnectionObserver
{
    public static ITcpConnectionObserver? Of(params ITcpConnectionObserver?[] observers)
    {
        var present = observers.OfType<ITcpConnectionObserver>().ToArray();
        return present.Length switch
        {
            0 => null,
            1 => present[0],
            _ => new TcpObservers(present),
        };
    }

    public void OnTcpConnectionOpened(TcpConnectionRecord connection)
    {
        foreach (var o in observers)
        {
            try
            {
                o.OnTcpConnectionOpened(connection);
            }
            catch (Exception)
            {
                // Reporting never breaks the connection; the other observers still run.
            }
        }
    }

    public void OnTcpConnectionClosed(TcpConnectionRecord connection)
    {
        foreach (var o in observers)
        {
            try
            {
                o.OnTcpConnectionClosed(connection);
            }
            catch (Exception)
            {
                // As above.
            }
        }
    }
}
