using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Bowline.Proxy.Transport;

namespace Bowline.Proxy.Forwarding.Http1;

/// <summary>
/// Idle keep-alive connections to one endpoint, most recently used first: the hot ones are reused, the ones a burst
/// left behind sit at the bottom and expire after the idle timeout (checked when renting and by a sweep every few
/// seconds, so an endpoint that disappears from the config does not keep its sockets). A connection idle longer than
/// a second is also checked for a close the upstream sent meanwhile before it is handed out.
/// </summary>
/// <remarks>
/// The stack is guarded by a lock held for a push or a pop: uncontended on a sidecar's one event-loop thread, and
/// simpler to get right than a lock-free stack that must not allocate per push.
/// </remarks>
internal sealed class Http1Pool
{
    private static readonly ConcurrentDictionary<Http1Pool, byte> WithIdle = new();
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(5);
    private static Timer? _sweeper;

    /// <summary>Past this idle time a pooled connection is polled for a close the upstream sent meanwhile.</summary>
    private static readonly TimeSpan CheckIdleAfter = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    private readonly EndPoint _endpoint;
    private readonly TimeSpan _idleTimeout;
    private readonly TimeSpan _connectTimeout;
    private readonly TimeProvider _time;
    private Http1Connection?[] _idle = new Http1Connection?[8];
    private int _count;
    private bool _registered;

    public Http1Pool(string address, int port, TimeSpan idleTimeout, TimeSpan connectTimeout, TimeProvider? time = null)
    {
        _endpoint = IPAddress.TryParse(address, out var ip) ? new IPEndPoint(ip, port) : new DnsEndPoint(address, port);
        _idleTimeout = idleTimeout;
        _connectTimeout = connectTimeout;
        _time = time ?? TimeProvider.System;
        if (Volatile.Read(ref _sweeper) is null)
        {
            var timer = new Timer(_ => SweepAll(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            if (Interlocked.CompareExchange(ref _sweeper, timer, null) is null)
            {
                timer.Change(SweepInterval, SweepInterval);
            }
            else
            {
                timer.Dispose();
            }
        }
    }

    public int IdleCount
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>
    /// The most recently used idle connection still within its idle timeout and, if idle over a second, not closed by
    /// the upstream meanwhile; null when there is none.
    /// </summary>
    public Http1Connection? TryRent()
    {
        while (true)
        {
            Http1Connection? connection;
            lock (_lock)
            {
                if (_count == 0)
                {
                    return null;
                }

                connection = _idle[--_count];
                _idle[_count] = null;
            }

            var idle = _time.GetElapsedTime(connection!.IdleSince);
            // A connection reused within the second skips the poll (a syscall): under load that is every connection.
            if (idle < _idleTimeout && (idle < CheckIdleAfter || !connection.ClosedByPeer()))
            {
                return connection;
            }

            connection.Close();
        }
    }

    /// <exception cref="HttpRequestException">ConnectionError: refused, unreachable, or not connected within the connect timeout.</exception>
    public async ValueTask<Http1Connection> ConnectAsync(CancellationToken token)
    {
        using var connectTimeout = new CancellationTokenSource(_connectTimeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, connectTimeout.Token);
        try
        {
            return new Http1Connection(await StreamSocket.ConnectAsync(_endpoint, linked.Token), this);
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            throw new HttpRequestException(HttpRequestError.ConnectionError, $"connect to {_endpoint} timed out after {_connectTimeout.TotalMilliseconds:0} ms");
        }
        catch (SocketException e)
        {
            throw new HttpRequestException(HttpRequestError.ConnectionError, $"connect to {_endpoint} failed: {e.SocketErrorCode}", e);
        }
    }

    public void Return(Http1Connection connection)
    {
        connection.IdleSince = _time.GetTimestamp();
        var register = false;
        lock (_lock)
        {
            if (_count == _idle.Length)
            {
                Array.Resize(ref _idle, _idle.Length * 2);
            }

            _idle[_count++] = connection;
            if (!_registered)
            {
                _registered = register = true;
            }
        }

        if (register)
        {
            WithIdle.TryAdd(this, 0);
        }
    }

    /// <summary>Closes the idle connections past the idle timeout (the oldest are at the bottom of the stack).</summary>
    public void Sweep()
    {
        List<Http1Connection>? expired = null;
        lock (_lock)
        {
            var keep = 0;
            while (keep < _count && _time.GetElapsedTime(_idle[keep]!.IdleSince) >= _idleTimeout)
            {
                keep++;
            }

            if (keep > 0)
            {
                expired = new List<Http1Connection>(keep);
                for (var i = 0; i < keep; i++)
                {
                    expired.Add(_idle[i]!);
                }

                Array.Copy(_idle, keep, _idle, 0, _count - keep);
                Array.Clear(_idle, _count - keep, keep);
                _count -= keep;
            }

            if (_count == 0)
            {
                _registered = false;
                WithIdle.TryRemove(this, out _);
            }
        }

        expired?.ForEach(c => c.Close());
    }

    private static void SweepAll()
    {
        foreach (var pool in WithIdle.Keys)
        {
            pool.Sweep();
        }
    }
}
