using System.Net;
using System.Net.Sockets;
using Bowline.Proxy.Forwarding.Http1;
using Bowline.Proxy.Tests.Infrastructure;

namespace Bowline.Proxy.Tests.Http1;

/// <summary>Http1Pool on its own: idle connections expire by the idle timeout, when rented and when swept.</summary>
public sealed class Http1PoolTests : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<Socket> _accepted = [];
    private readonly ManualTimeProvider _time = new();

    public Http1PoolTests() => _listener.Start();

    private int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>A connection from the pool and the upstream's end of it.</summary>
    private async Task<(Http1Connection Connection, Socket Peer)> ConnectAsync(Http1Pool pool)
    {
        var connection = await pool.ConnectAsync(CancellationToken.None);
        var peer = await _listener.AcceptSocketAsync();
        _accepted.Add(peer);
        return (connection, peer);
    }

    /// <summary>The pool closed its end: the upstream's end reads end of stream.</summary>
    private static async Task<bool> ClosedAsync(Socket peer)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await peer.ReceiveAsync(new byte[1], SocketFlags.None, timeout.Token) == 0;
    }

    private static bool StillOpen(Socket peer) => !peer.Poll(0, SelectMode.SelectRead);

    [Fact]
    public async Task TryRent_ConnectionIdleLongerThanTheIdleTimeout_NotHandedOutAndClosed()
    {
        var pool = new Http1Pool("127.0.0.1", Port, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10), _time);
        var (connection, peer) = await ConnectAsync(pool);
        pool.Return(connection);
        _time.Advance(TimeSpan.FromSeconds(31));

        Assert.Null(pool.TryRent());
        Assert.Equal(0, pool.IdleCount);
        Assert.True(await ClosedAsync(peer));
    }

    [Fact]
    public async Task TryRent_FreshIdleConnection_HandedOutMostRecentFirst()
    {
        var pool = new Http1Pool("127.0.0.1", Port, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10), _time);
        var (older, _) = await ConnectAsync(pool);
        var (newer, _) = await ConnectAsync(pool);
        pool.Return(older);
        pool.Return(newer);

        Assert.Same(newer, pool.TryRent());
        Assert.Same(older, pool.TryRent());
        Assert.Null(pool.TryRent());
        older.Close();
        newer.Close();
    }

    [Fact]
    public async Task Sweep_ClosesOnlyTheExpiredConnections()
    {
        var pool = new Http1Pool("127.0.0.1", Port, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10), _time);
        var (old, oldPeer) = await ConnectAsync(pool);
        var (fresh, freshPeer) = await ConnectAsync(pool);
        pool.Return(old);
        _time.Advance(TimeSpan.FromSeconds(25));
        pool.Return(fresh);
        _time.Advance(TimeSpan.FromSeconds(10));

        pool.Sweep();

        Assert.Equal(1, pool.IdleCount);
        Assert.True(await ClosedAsync(oldPeer));
        Assert.True(StillOpen(freshPeer));
        Assert.Same(fresh, pool.TryRent());

        // Later, the fresh one expires too once returned and left idle past the timeout.
        pool.Return(fresh);
        _time.Advance(TimeSpan.FromSeconds(30));
        pool.Sweep();
        Assert.Equal(0, pool.IdleCount);
        Assert.True(await ClosedAsync(freshPeer));
    }

    [Fact]
    public async Task TryRent_IdleOverASecondAndClosedByTheUpstream_NotHandedOut_IdleUnderASecond_HandedOutUnchecked()
    {
        var pool = new Http1Pool("127.0.0.1", Port, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10), _time);
        var (connection, peer) = await ConnectAsync(pool);
        pool.Return(connection);
        // The upstream closes its end while the connection is idle (a keep-alive timeout shorter than ours).
        peer.Shutdown(SocketShutdown.Both);
        await WaitReadableAsync(connection);

        // Within the second the pool trusts a connection it just had: no poll (a syscall) per request under load.
        _time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.Same(connection, pool.TryRent());

        pool.Return(connection);
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Null(pool.TryRent());
        Assert.Equal(0, pool.IdleCount);
    }

    /// <summary>Waits (on real time, bounded) until the upstream's close has reached the pooled socket.</summary>
    private static async Task WaitReadableAsync(Http1Connection connection)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!connection.ClosedByPeer())
        {
            await Task.Delay(5, timeout.Token);
        }
    }

    [Fact]
    public async Task ConnectAsync_NothingListening_ConnectionError()
    {
        using var refused = Infrastructure.FreePort.Refused();
        var pool = new Http1Pool("127.0.0.1", refused.Port, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10));

        var e = await Assert.ThrowsAsync<HttpRequestException>(async () => await pool.ConnectAsync(CancellationToken.None));
        Assert.Equal(HttpRequestError.ConnectionError, e.HttpRequestError);
    }

    public void Dispose()
    {
        foreach (var socket in _accepted)
        {
            socket.Dispose();
        }

        _listener.Stop();
        _listener.Dispose();
    }
}
