using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Bowline.Proxy.Tests.Http1;

/// <summary>
/// A scripted HTTP/1.1 upstream on a raw socket: it reads each request head, records it, and lets the test's script
/// answer with whatever bytes it likes (valid or not). Counts accepted and finished connections so tests can assert on
/// connection reuse.
/// </summary>
internal sealed class RawUpstream : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<RawExchange, Task> _script;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Socket> _sockets = [];
    private readonly ConcurrentBag<Task> _connections = [];
    private readonly Task _acceptLoop;
    private int _accepted;
    private int _ended;

    private RawUpstream(Func<RawExchange, Task> script)
    {
        _script = script;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = AcceptAsync();
    }

    /// <summary>Listening at once (bound and listening before this returns).</summary>
    public static RawUpstream Start(Func<RawExchange, Task> script) => new(script);

    public int Port { get; }

    /// <summary>Connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Connections whose handling ended (the peer closed, or the script closed it).</summary>
    public int Ended => Volatile.Read(ref _ended);

    /// <summary>Every request received, in arrival order.</summary>
    public ConcurrentQueue<RawRequest> Requests { get; } = new();

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                socket.NoDelay = true;
                _sockets.Add(socket);
                var index = Interlocked.Increment(ref _accepted);
                _connections.Add(Task.Run(() => ServeAsync(socket, index)));
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (SocketException)
        {
        }
        catch (InvalidOperationException) when (_stop.IsCancellationRequested)
        {
            // Stopped between two accepts: the listener says "not listening" rather than cancelled.
        }
    }

    private async Task ServeAsync(Socket socket, int connectionIndex)
    {
        RawConnection connection;
        try
        {
            connection = new RawConnection(socket, connectionIndex);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The proxy dropped the connection (or the test is disposing) before it was served at all.
            socket.Dispose();
            Interlocked.Increment(ref _ended);
            return;
        }

        try
        {
            for (var n = 1; !connection.Closed; n++)
            {
                var head = await connection.ReadHeadAsync(_stop.Token);
                if (head is null)
                {
                    break;
                }

                var request = new RawRequest(head, connectionIndex, n);
                Requests.Enqueue(request);
                await _script(new RawExchange(connection, request));
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            connection.Close();
            Interlocked.Increment(ref _ended);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }

        await _acceptLoop;
        await Task.WhenAll(_connections);
        _stop.Dispose();
    }
}

/// <summary>One received request head: its request line and fields as sent, and where it arrived.</summary>
internal sealed class RawRequest(string head, int connection, int indexOnConnection)
{
    /// <summary>The head as received, CRLFs included, without the final empty line.</summary>
    public string Head { get; } = head;

    public int Connection { get; } = connection;

    /// <summary>1 for the first request on its connection.</summary>
    public int IndexOnConnection { get; } = indexOnConnection;

    public string RequestLine => Head[..Head.IndexOf("\r\n", StringComparison.Ordinal)];

    /// <summary>Header fields in order, names as sent.</summary>
    public IReadOnlyList<(string Name, string Value)> Fields => [.. Head.Split("\r\n").Skip(1).Select(line =>
    {
        var colon = line.IndexOf(':', StringComparison.Ordinal);
        return (line[..colon], line[(colon + 1)..].Trim());
    })];

    /// <summary>The values of every field line with this name (case-insensitive), one entry per line.</summary>
    public string[] Lines(string name) => [.. Fields.Where(f => f.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(f => f.Value)];

    public string? Single(string name) => Lines(name) switch
    {
        [] => null,
        [var one] => one,
        var many => throw new Xunit.Sdk.XunitException($"{name} sent on {many.Length} lines: {string.Join(" | ", many)}"),
    };
}

/// <summary>A request and the connection it came on, for the script to answer.</summary>
internal sealed class RawExchange(RawConnection connection, RawRequest request)
{
    public RawRequest Request { get; } = request;

    public RawConnection Connection { get; } = connection;

    public Task WriteAsync(string text) => Connection.WriteAsync(Encoding.Latin1.GetBytes(text));

    public Task WriteAsync(byte[] bytes) => Connection.WriteAsync(bytes);

    /// <summary>Reads the request body as its framing says (Content-Length or chunked), decoded.</summary>
    public async Task<byte[]> ReadBodyAsync()
    {
        if (Request.Single("Transfer-Encoding") is { } coding)
        {
            Assert.Equal("chunked", coding);
            return await Connection.ReadChunkedAsync();
        }

        return Request.Single("Content-Length") is { } length ? await Connection.ReadExactAsync(int.Parse(length, System.Globalization.CultureInfo.InvariantCulture)) : [];
    }
}

/// <summary>A buffered raw connection: lines and exact byte counts in, bytes out.</summary>
internal sealed class RawConnection : IDisposable
{
    private readonly NetworkStream _stream;
    private readonly HttpByteReader _reader;

    public RawConnection(Socket socket, int index)
    {
        Socket = socket;
        Index = index;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = new HttpByteReader(_stream.ReadAsync, strict: false);
    }

    public int Index { get; }

    public bool Closed { get; private set; }

    public Socket Socket { get; }

    public async Task WriteAsync(ReadOnlyMemory<byte> bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    /// <summary>Graceful close (FIN); the serve loop ends.</summary>
    public void Close()
    {
        if (!Closed)
        {
            Closed = true;
            _stream.Dispose();
        }
    }

    public void Dispose() => Close();

    /// <summary>Abortive close: RST instead of FIN.</summary>
    public void Reset()
    {
        if (!Closed)
        {
            Socket.LingerState = new LingerOption(true, 0);
            Close();
        }
    }

    /// <summary>The head up to the empty line; null when the peer closed before a new request began.</summary>
    public Task<string?> ReadHeadAsync(CancellationToken token) => _reader.ReadHeadAsync(token);

    public Task<byte[]> ReadExactAsync(int count) => _reader.ReadExactAsync(count, CancellationToken.None);

    public Task<byte[]> ReadChunkedAsync() => _reader.ReadChunkedAsync(CancellationToken.None);
}
