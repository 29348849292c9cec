using System.Buffers;
using System.Net.Sockets;
using Bowline.Proxy.Pipeline;

namespace Bowline.Proxy.Listeners.Tcp;

/// <summary>
/// The byte copy of one proxied connection, both ways at once. Each direction runs until its source sends FIN, then
/// shuts down the other side's sending half (so the peer sees FIN and may still answer: half-close); the session ends
/// when both directions have. A reset on either side, the idle timeout or the listener's abort closes both at once.
/// </summary>
internal sealed class TcpSession : IDisposable
{
    /// <summary>Per direction, rented for the session's life: 2 × 32 KiB per connection.</summary>
    private const int BufferSize = 32 * 1024;

    private readonly Socket _downstream;
    private readonly Socket _upstream;
    private readonly TcpConnectionRecord _record;
    private readonly TimeSpan _idleTimeout;
    private readonly TimeProvider _time;
    private readonly ITimer? _idleTimer;
    private readonly CancellationTokenRegistration _abortRegistration;
    private long _lastActivity;
    private int _closed;

    public TcpSession(Socket downstream, Socket upstream, TcpConnectionRecord record, TimeSpan idleTimeout, TimeProvider time, CancellationToken abort)
    {
        _downstream = downstream;
        _upstream = upstream;
        _record = record;
        _idleTimeout = idleTimeout;
        _time = time;
        _lastActivity = time.GetTimestamp();
        if (idleTimeout > TimeSpan.Zero)
        {
            // One-shot, re-armed for the rest of the window when there was traffic: no timer work per read.
            _idleTimer = time.CreateTimer(static s => ((TcpSession)s!).OnIdleTimer(), this, idleTimeout, Timeout.InfiniteTimeSpan);
        }

        _abortRegistration = abort.Register(static s => ((TcpSession)s!).CloseBoth(), this);
    }

    public async Task RunAsync(ArraySegment<byte> head)
    {
        if (head.Count > 0)
        {
            // The bytes a Tls listener read to find the SNI go first, untouched.
            try
            {
                await _upstream.SendAsync(head, SocketFlags.None);
                _record.AddReceived(head.Count);
            }
            catch (Exception e) when (IsSocketFailure(e))
            {
                Fail(ResponseFlags.UpstreamConnectionTermination);
                return;
            }
        }

        var toUpstream = PumpAsync(_downstream, _upstream, toUpstream: true);
        var toDownstream = PumpAsync(_upstream, _downstream, toUpstream: false);
        await Task.WhenAll(toUpstream, toDownstream);
    }

    private async Task PumpAsync(Socket from, Socket to, bool toUpstream)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        var reading = true;
        try
        {
            while (true)
            {
                reading = true;
                var n = await from.ReceiveAsync(buffer.AsMemory(), SocketFlags.None);
                if (n == 0)
                {
                    // FIN from this side: pass it on; the other direction keeps flowing until its own FIN.
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                Volatile.Write(ref _lastActivity, _time.GetTimestamp());
                reading = false;
                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None);
                if (toUpstream)
                {
                    _record.AddReceived(n);
                }
                else
                {
                    _record.AddSent(n);
                }
            }
        }
        catch (Exception e) when (IsSocketFailure(e))
        {
            // A reset (or our own close on idle/abort): the side that failed is the one read from, or written to.
            var downstreamFailed = reading == toUpstream;
            Fail(downstreamFailed ? ResponseFlags.DownstreamConnectionTermination : ResponseFlags.UpstreamConnectionTermination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static bool IsSocketFailure(Exception e) => e is SocketException or ObjectDisposedException or OperationCanceledException;

    private void Fail(ResponseFlags flag)
    {
        // Only the first failure names the cause; the other direction then fails because we closed it.
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            if (!_record.IdleTimedOut)
            {
                _record.Flags |= flag;
            }

            CloseSockets();
        }
    }

    private void OnIdleTimer()
    {
        var idle = _time.GetElapsedTime(Volatile.Read(ref _lastActivity));
        if (idle >= _idleTimeout)
        {
            _record.IdleTimedOut = true;
            CloseBoth();
            return;
        }

        try
        {
            _idleTimer!.Change(_idleTimeout - idle, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // The session ended meanwhile.
        }
    }

    private void CloseBoth()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            CloseSockets();
        }
    }

    private void CloseSockets()
    {
        // Pending reads and writes on both fail at once, which ends both pumps.
        _downstream.Dispose();
        _upstream.Dispose();
    }

    public void Dispose()
    {
        _idleTimer?.Dispose();
        _abortRegistration.Dispose();
    }
}
