using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace Bowline.Proxy.Transport;

/// <summary>Kestrel's transport for the proxy's listeners on Linux: connections on Bowline's event loops.</summary>
internal sealed class LoopTransportFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private const int Backlog = 512;

    /// <exception cref="AddressInUseException">The port is taken (as Kestrel's socket transport reports it).</exception>
    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not IPEndPoint ip)
        {
            throw new NotSupportedException($"{endpoint.GetType().Name} is not a TCP endpoint");
        }

        try
        {
            return ValueTask.FromResult<IConnectionListener>(LoopConnectionListener.Bind(ip, Backlog));
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new AddressInUseException(e.Message, e);
        }
    }

    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint;
}
