using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Bowline.EndToEnd.Tests.Infrastructure;

/// <summary>
/// The "external" service of the egress tests: a minimal HTTP/1.1 server on a free loopback port (never the internet).
/// It answers every request 200 with a body starting "external" followed by the request line and headers it received,
/// so a test can see what reached it (the Host, headers a gateway added), and counts requests.
/// </summary>
internal sealed class ExternalServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _requests;

    public ExternalServer()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    public int Requests => Volatile.Read(ref _requests);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = ServeAsync(socket);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        using var _ = socket;
        await using var stream = new NetworkStream(socket);
        try
        {
            var head = await ReadHeadAsync(stream);
            if (head is null)
            {
                return;
            }

            Interlocked.Increment(ref _requests);
            var body = Encoding.UTF8.GetBytes("external\n" + head);
            var response = Encoding.ASCII.GetBytes(
                $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
            await stream.WriteAsync(response, _stop.Token);
            await stream.WriteAsync(body, _stop.Token);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
        {
            // A client that went away: nothing to answer.
        }
    }

    /// <summary>The request line and headers (up to the blank line); the tests send no bodies.</summary>
    private async Task<string?> ReadHeadAsync(NetworkStream stream)
    {
        var buffer = new byte[16 * 1024];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length), _stop.Token);
            if (read == 0)
            {
                return null;
            }

            length += read;
            var text = Encoding.ASCII.GetString(buffer, 0, length);
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                return text[..end];
            }
        }

        return null;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }
}
