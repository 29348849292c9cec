using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Bowline.Proxy.Transport;

/// <summary>
/// The Linux calls the event-loop transport makes itself (epoll(7), socket(7), tcp(7)). Called directly rather than
/// through System.Net.Sockets, whose SocketAsyncContext tries every receive before it waits for epoll (an EAGAIN
/// syscall per request and direction) and takes a lock per operation.
/// </summary>
internal static unsafe partial class Libc
{
    public const int EAGAIN = 11;
    public const int EINTR = 4;
    public const int EINPROGRESS = 115;
    public const int EBADF = 9;
    public const int ENOMEM = 12;
    public const int ENFILE = 23;
    public const int EMFILE = 24;
    public const int ENOBUFS = 105;

    /// <summary>What a try-once call returns for EAGAIN (others return -errno).</summary>
    public const int WouldBlock = int.MinValue;

    public const uint EPOLLIN = 0x001;
    public const uint EPOLLOUT = 0x004;
    public const uint EPOLLERR = 0x008;
    public const uint EPOLLHUP = 0x010;
    public const uint EPOLLRDHUP = 0x2000;
    public const uint EPOLLET = 0x80000000;

    private const int EPOLL_CTL_ADD = 1;
    private const int EPOLL_CLOEXEC = 0x80000;

    public const int SOCK_STREAM = 1;
    public const int SOCK_NONBLOCK = 0x800;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int MSG_PEEK = 0x2;
    public const int MSG_DONTWAIT = 0x40;
    public const int MSG_NOSIGNAL = 0x4000;
    public const int SHUT_RDWR = 2;

    private const int AF_INET = 2;
    private const int AF_INET6 = 10;
    private const int SOL_SOCKET = 1;
    private const int SO_ERROR = 4;
    private const int IPPROTO_TCP = 6;
    private const int TCP_NODELAY = 1;
    private const int SO_REUSEADDR = 2;
    private const int IPPROTO_IPV6 = 41;
    private const int IPV6_V6ONLY = 26;

    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    public struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_ctl(int epfd, int op, int fd, EpollEvent* ev);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_wait(int epfd, EpollEvent* events, int maxevents, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint recv(int fd, byte* buf, nuint len, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint send(int fd, byte* buf, nuint len, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint writev(int fd, IoVec* iov, int iovcnt);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int shutdown(int fd, int how);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int connect(int fd, byte* addr, int addrlen);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int bind(int fd, byte* addr, int addrlen);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int listen(int fd, int backlog);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int accept4(int fd, byte* addr, int* addrlen, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getsockopt(int fd, int level, int name, int* value, int* len);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setsockopt(int fd, int level, int name, int* value, int len);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getsockname(int fd, byte* addr, int* addrlen);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getpeername(int fd, byte* addr, int* addrlen);

    public static int Errno => Marshal.GetLastPInvokeError();

    public static int EpollCreate()
    {
        var fd = epoll_create1(EPOLL_CLOEXEC);
        return fd >= 0 ? fd : throw Error(Errno);
    }

    /// <summary>Edge-triggered for both directions, once for the descriptor's life.</summary>
    public static void EpollAdd(int epfd, int fd)
    {
        var ev = new EpollEvent { Events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, Data = (ulong)fd };
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
        {
            throw Error(Errno);
        }
    }

    /// <summary>A non-blocking TCP socket for <paramref name="family"/>, Nagle off (requests and responses are whole messages).</summary>
    public static int TcpSocket(AddressFamily family)
    {
        var fd = socket(family == AddressFamily.InterNetworkV6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw Error(Errno);
        }

        SetNoDelay(fd);
        return fd;
    }

    /// <summary>
    /// A non-blocking listening socket bound to <paramref name="endpoint"/>: SO_REUSEADDR (a restarted proxy binds
    /// past its old connections in TIME_WAIT), dual-stack for the IPv6 any address, as Kestrel binds.
    /// </summary>
    public static int Listen(IPEndPoint endpoint, int backlog)
    {
        var fd = socket(endpoint.AddressFamily == AddressFamily.InterNetworkV6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw Error(Errno);
        }

        var one = 1;
        var zero = 0;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(int));
        if (endpoint.Address.Equals(IPAddress.IPv6Any))
        {
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(int));
        }

        var address = stackalloc byte[28];
        var length = WriteAddress(endpoint, address);
        if (bind(fd, address, length) != 0 || listen(fd, backlog) != 0)
        {
            var errno = Errno;
            close(fd);
            throw Error(errno);
        }

        return fd;
    }

    public static void SetNoDelay(int fd)
    {
        var one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(int));
    }

    /// <summary>Starts a non-blocking connect: true when already connected, false when in progress (wait for writable).</summary>
    public static bool StartConnect(int fd, IPEndPoint endpoint)
    {
        var address = stackalloc byte[28];
        var length = WriteAddress(endpoint, address);
        if (connect(fd, address, length) == 0)
        {
            return true;
        }

        var errno = Errno;
        return errno == EINPROGRESS ? false : throw Error(errno);
    }

    /// <summary>The outcome of a connect that was in progress (SO_ERROR), 0 when it succeeded.</summary>
    public static int PendingError(int fd)
    {
        int value = 0, length = sizeof(int);
        return getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) == 0 ? value : Errno;
    }

    public static IPEndPoint? LocalEndPoint(int fd)
    {
        var address = stackalloc byte[28];
        var length = 28;
        return getsockname(fd, address, &length) == 0 ? ReadAddress(address) : null;
    }

    public static IPEndPoint? RemoteEndPoint(int fd)
    {
        var address = stackalloc byte[28];
        var length = 28;
        return getpeername(fd, address, &length) == 0 ? ReadAddress(address) : null;
    }

    /// <summary>The errno as the exception System.Net.Sockets would throw, so callers keep their SocketException handling.</summary>
    public static SocketException Error(int errno) => new((int)ToSocketError(errno));

    private static SocketError ToSocketError(int errno) => errno switch
    {
        104 => SocketError.ConnectionReset, // ECONNRESET
        32 => SocketError.Shutdown, // EPIPE
        111 => SocketError.ConnectionRefused, // ECONNREFUSED
        110 => SocketError.TimedOut, // ETIMEDOUT
        113 => SocketError.HostUnreachable, // EHOSTUNREACH
        101 => SocketError.NetworkUnreachable, // ENETUNREACH
        103 => SocketError.ConnectionAborted, // ECONNABORTED
        98 => SocketError.AddressAlreadyInUse, // EADDRINUSE
        99 => SocketError.AddressNotAvailable, // EADDRNOTAVAIL
        EBADF => SocketError.OperationAborted, // closed under us
        EMFILE or ENFILE => SocketError.TooManyOpenSockets,
        ENOMEM or ENOBUFS => SocketError.NoBufferSpaceAvailable,
        _ => SocketError.SocketError,
    };

    private static int WriteAddress(IPEndPoint endpoint, byte* address)
    {
        var port = (ushort)endpoint.Port;
        if (endpoint.AddressFamily == AddressFamily.InterNetworkV6)
        {
            new Span<byte>(address, 28).Clear();
            *(ushort*)address = AF_INET6;
            address[2] = (byte)(port >> 8);
            address[3] = (byte)port;
            endpoint.Address.TryWriteBytes(new Span<byte>(address + 8, 16), out _);
            *(uint*)(address + 24) = (uint)endpoint.Address.ScopeId;
            return 28;
        }

        new Span<byte>(address, 16).Clear();
        *(ushort*)address = AF_INET;
        address[2] = (byte)(port >> 8);
        address[3] = (byte)port;
        endpoint.Address.TryWriteBytes(new Span<byte>(address + 4, 4), out _);
        return 16;
    }

    private static IPEndPoint? ReadAddress(byte* address)
    {
        var family = *(ushort*)address;
        var port = (address[2] << 8) | address[3];
        return family switch
        {
            AF_INET => new IPEndPoint(new IPAddress(new ReadOnlySpan<byte>(address + 4, 4)), port),
            AF_INET6 => new IPEndPoint(new IPAddress(new ReadOnlySpan<byte>(address + 8, 16), *(uint*)(address + 24)), port),
            _ => null,
        };
    }
}
