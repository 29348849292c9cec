using System.Runtime.InteropServices;

namespace Bowline.Proxy.Transport;

/// <summary>
/// One epoll instance and the thread that waits on it. Every socket is registered once, edge-triggered for both
/// directions; an event only records that the socket may be readable or writable and completes the operation waiting
/// for it, if any — on this thread, so a request is read, routed, sent upstream, and its response written back without
/// a thread hand-off (the continuations run inline, like Kestrel's inline scheduling).
/// </summary>
internal sealed unsafe class EventLoop
{
    private const int MaxEvents = 256;

    private static readonly Lazy<EventLoop[]> Loops = new(Create);
    private static int s_next;

    [ThreadStatic]
    private static EventLoop? t_current;

    private readonly int _epoll;
    private readonly Lock _lock = new();
    // Indexed by descriptor: descriptors are small dense integers, and a table needs no handle per registration.
    private LoopSocket?[] _sockets = new LoopSocket?[1024];

    private EventLoop(int index)
    {
        _epoll = Libc.EpollCreate();
        var thread = new Thread(Run) { IsBackground = true, Name = $"bowline-epoll-{index}" };
        thread.UnsafeStart();
    }

    /// <summary>
    /// The loop for a new socket: the caller's own loop when it runs on one (an upstream connection made while a
    /// downstream request is served stays on that request's thread), otherwise the next in turn.
    /// </summary>
    public static EventLoop Pick() => t_current ?? Next();

    /// <summary>
    /// The next loop in turn: for accepted connections, which would otherwise all land on the listener's loop (the
    /// accept runs there) and leave the other cores' loops idle.
    /// </summary>
    public static EventLoop Next()
    {
        var loops = Loops.Value;
        return loops.Length == 1 ? loops[0] : loops[(int)((uint)Interlocked.Increment(ref s_next) % loops.Length)];
    }

    /// <summary>One loop per core the process may run on (a sidecar pinned to one core gets one thread).</summary>
    private static EventLoop[] Create()
    {
        var loops = new EventLoop[Math.Max(1, Environment.ProcessorCount)];
        for (var i = 0; i < loops.Length; i++)
        {
            loops[i] = new EventLoop(i);
        }

        return loops;
    }

    /// <summary>Makes <paramref name="socket"/> receive this loop's events for <paramref name="fd"/>.</summary>
    public void Register(int fd, LoopSocket socket)
    {
        lock (_lock)
        {
            var table = _sockets;
            if (fd >= table.Length)
            {
                var larger = new LoopSocket?[Math.Max(table.Length * 2, fd + 1)];
                Array.Copy(table, larger, table.Length);
                table = larger;
                Volatile.Write(ref _sockets, table);
            }

            // Before epoll_ctl: the first event (writable, at once for a connected socket) must find its socket.
            Volatile.Write(ref table[fd], socket);
        }

        Libc.EpollAdd(_epoll, fd);
    }

    /// <summary>Called before <paramref name="fd"/> is closed (which removes it from the epoll set).</summary>
    public void Unregister(int fd, LoopSocket socket)
    {
        lock (_lock)
        {
            var table = _sockets;
            if (fd < table.Length && ReferenceEquals(table[fd], socket))
            {
                table[fd] = null;
            }
        }
    }

    private void Run()
    {
        t_current = this;
        var events = (Libc.EpollEvent*)NativeMemory.Alloc(MaxEvents, (nuint)sizeof(Libc.EpollEvent));
        while (true)
        {
            var count = Libc.epoll_wait(_epoll, events, MaxEvents, -1);
            if (count < 0)
            {
                // EINTR (a signal) is the only expected failure; anything else would spin, so it is fatal.
                if (Libc.Errno == Libc.EINTR)
                {
                    continue;
                }

                Environment.FailFast($"epoll_wait failed: errno {Libc.Errno}");
            }

            var table = Volatile.Read(ref _sockets);
            for (var i = 0; i < count; i++)
            {
                var fd = (int)events[i].Data;
                if (fd >= table.Length)
                {
                    table = Volatile.Read(ref _sockets);
                }

                // An event for a descriptor closed meanwhile finds nothing, or the socket that reused the number:
                // a spurious readiness, which costs that socket one EAGAIN and nothing else.
                if (fd < table.Length && Volatile.Read(ref table[fd]) is { } socket)
                {
                    try
                    {
                        socket.OnEvents(events[i].Events);
                    }
                    catch (Exception e)
                    {
                        // Continuations run here; one that throws must not stop every other connection's loop.
                        Environment.FailFast("unhandled exception on the event loop", e);
                    }
                }
            }
        }
    }
}
