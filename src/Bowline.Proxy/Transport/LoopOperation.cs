using System.Net.Sockets;
using System.Threading.Tasks.Sources;

namespace Bowline.Proxy.Transport;

/// <summary>
/// One direction's operation waiting for a readiness event, reused for every wait (no allocation per operation).
/// Exactly one party completes it: the loop on an event, the caller itself when an event slipped in while it began to
/// wait, a cancellation, or the socket's disposal — whoever clears the waiting flag first.
/// Continuations run inline where it completes: on the loop thread for an event, which is the point.
/// </summary>
internal abstract class LoopOperation : IValueTaskSource<int>, IValueTaskSource
{
    private ManualResetValueTaskSourceCore<int> _core;
    private int _waiting;
    private CancellationToken _token;
    private CancellationTokenRegistration _cancel;

    /// <summary>The socket's event count for this direction.</summary>
    protected abstract int Events { get; }

    /// <summary>Tries the operation once: true when it is done (the result or exception set), false on EAGAIN.</summary>
    protected abstract bool TryComplete(int seen);

    /// <summary>Drops references to the caller's buffers.</summary>
    protected abstract void Clear();

    /// <summary>The socket was disposed: its descriptor may be gone, and with it any event to wait for.</summary>
    protected abstract bool Disposed { get; }

    /// <summary>Starts waiting for an event after <paramref name="seen"/>; the version for the ValueTask.</summary>
    protected short Begin(int seen, CancellationToken token)
    {
        _core.Reset();
        var version = _core.Version;
        if (token.IsCancellationRequested)
        {
            Clear();
            _core.SetException(new OperationCanceledException(token));
            return version;
        }

        _token = token;
        _cancel = token.CanBeCanceled ? token.UnsafeRegister(static state => ((LoopOperation)state!).Cancel(), this) : default;

        Interlocked.Exchange(ref _waiting, 1);
        // An event after `seen` that came before the flag was set found nobody waiting: take the operation back.
        while (Events != seen)
        {
            if (Interlocked.Exchange(ref _waiting, 0) == 0)
            {
                return version;
            }

            seen = Events;
            if (TryComplete(seen))
            {
                return version;
            }

            Interlocked.Exchange(ref _waiting, 1);
        }

        // Disposal sets its flag before it aborts waiters; this checks after setting the waiting flag: one of the two
        // sees the other, so a wait that starts as the socket goes away does not wait forever.
        if (Disposed)
        {
            Abort();
        }
        else if (token.IsCancellationRequested)
        {
            // Cancelled between the registration and the arming: the callback found nothing waiting.
            Cancel();
        }

        return version;
    }

    /// <summary>A readiness event (the loop thread).</summary>
    public void OnReady()
    {
        if (Volatile.Read(ref _waiting) == 0 || Interlocked.Exchange(ref _waiting, 0) == 0)
        {
            return;
        }

        if (TryComplete(Events))
        {
            return;
        }

        // Spurious (another socket's event on a reused descriptor, or drained meanwhile): wait on. Only this thread
        // counts events, so none can arrive between the attempt and re-arming; a cancellation can.
        Interlocked.Exchange(ref _waiting, 1);
        if (_token.IsCancellationRequested)
        {
            Cancel();
        }
    }

    /// <summary>The socket is being disposed: a waiting operation fails with OperationAborted.</summary>
    public void Abort()
    {
        if (Interlocked.Exchange(ref _waiting, 0) == 1)
        {
            Clear();
            _cancel.Unregister();
            // Not inline: the disposing caller must not run the waiter's continuation inside Dispose.
            ThreadPool.UnsafeQueueUserWorkItem(static state => state._core.SetException(new SocketException((int)SocketError.OperationAborted)), this, preferLocal: false);
        }
    }

    // The registration goes before the completion: the continuation runs inside SetResult and may start the next
    // operation with a registration of its own, which unregistering afterwards would silently drop.
    protected void SetResult(int result)
    {
        _cancel.Unregister();
        _core.SetResult(result);
    }

    protected void SetException(Exception e)
    {
        _cancel.Unregister();
        _core.SetException(e);
    }

    private void Cancel()
    {
        if (Interlocked.Exchange(ref _waiting, 0) == 1)
        {
            Clear();
            ThreadPool.UnsafeQueueUserWorkItem(static state => state._core.SetException(new OperationCanceledException(state._token)), this, preferLocal: false);
        }
    }

    public int GetResult(short token)
    {
        _token = default;
        return _core.GetResult(token);
    }

    void IValueTaskSource.GetResult(short token) => GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
