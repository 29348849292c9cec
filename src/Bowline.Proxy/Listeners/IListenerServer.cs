using System.Net;

namespace Bowline.Proxy.Listeners;

/// <summary>
/// One bound listener as the <see cref="ListenerManager"/> runs it: a Kestrel server for HTTP listeners
/// (<see cref="ListenerServer"/>), an accept loop for TCP and TLS passthrough ones (<see cref="Tcp.TcpListenerServer"/>).
/// What it serves comes from the current snapshot, looked up by <see cref="Id"/>.
/// </summary>
internal interface IListenerServer : IAsyncDisposable
{
    int Id { get; }
    string Name { get; set; }
    IPAddress Address { get; }
    int ConfiguredPort { get; }

    /// <summary>Whether it speaks TCP (opaque bytes) rather than HTTP; a listener that switches must get a new server.</summary>
    bool IsTcp { get; }

    /// <summary>The bound endpoint, known after <see cref="StartAsync"/>.</summary>
    IPEndPoint? BoundEndpoint { get; }

    /// <exception cref="IOException">Binding failed; the message is what a NACK should say.</exception>
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>Stops accepting at once; what is in flight gets <paramref name="drain"/> to finish, then is aborted.</summary>
    Task StopAsync(TimeSpan drain);
}
