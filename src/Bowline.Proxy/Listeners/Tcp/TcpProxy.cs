using System.Net;
using System.Net.Sockets;
using Bowline.Api.Xds;
using Bowline.Proxy.Config;
using Bowline.Proxy.LoadBalancing;
using Bowline.Proxy.Pipeline;

namespace Bowline.Proxy.Listeners.Tcp;

/// <summary>
/// Envoy's tcp_proxy for one accepted connection: (for Tls listeners) peek the ClientHello's SNI, pick a route and a
/// cluster, take a maxConnections slot (else close, UO), pick an endpoint (round robin, least connections, random or
/// source-IP hash), connect within connectTimeout (else close, UF, counted by outlier detection), then copy bytes both
/// ways until both directions are shut down, or the idle timeout passes.
/// </summary>
internal sealed class TcpProxy(ISnapshotSource snapshots, IRandomSource random, TimeProvider time, ITcpConnectionObserver? observer)
{
    /// <summary>Istio's default tcp.idleTimeout.</summary>
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromHours(1);

    /// <summary>Istio's default tcp.connectTimeout, for clusters without a connectionPool.</summary>
    private static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long a Tls listener waits for the ClientHello (Envoy's listener filter timeout is 15 s).</summary>
    public TimeSpan ClientHelloTimeout { get; init; } = TimeSpan.FromSeconds(15);

    public async Task HandleAsync(Socket downstream, int serverId, CancellationToken abort)
    {
        using var _ = downstream;
        var listener = snapshots.Current?.ListenersByServer.GetValueOrDefault(serverId);
        if (listener is null)
        {
            return;
        }

        downstream.NoDelay = true;
        var record = new TcpConnectionRecord(listener.Name, listener.Kind, downstream.RemoteEndPoint as IPEndPoint,
            downstream.LocalEndPoint as IPEndPoint, time.GetTimestamp())
        {
            ListenerConfig = listener,
        };
        var head = listener.Protocol == ListenerProtocol.Tls ? await PeekClientHelloAsync(downstream, record, abort) : default;
        if (head.Closed)
        {
            return;
        }

        var cluster = Route(listener, record);
        observer?.OnTcpConnectionOpened(record);
        try
        {
            if (cluster is not null)
            {
                await ProxyAsync(downstream, cluster, record, head.Bytes, abort);
            }
        }
        finally
        {
            record.Duration = time.GetElapsedTime(record.StartedAt);
            observer?.OnTcpConnectionClosed(record);
        }
    }

    private CompiledCluster? Route(CompiledListener listener, TcpConnectionRecord record)
    {
        CompiledCluster? cluster = listener.Cluster;
        if (cluster is null)
        {
            var local = record.Local?.Address;
            foreach (var route in listener.TcpRoutes)
            {
                if (route.Matches(record.Sni, local))
                {
                    record.Route = route.Name;
                    cluster = route.Picker.Pick(random);
                    break;
                }
            }
        }

        if (cluster is null)
        {
            record.Flags |= ResponseFlags.NoRoute;
            return null;
        }

        record.Cluster = cluster.Name;
        record.ClusterConfig = cluster;
        record.Service = cluster.Service;
        record.Subset = cluster.Subset;
        return cluster;
    }

    private async Task ProxyAsync(Socket downstream, CompiledCluster cluster, TcpConnectionRecord record, ArraySegment<byte> head, CancellationToken abort)
    {
        var connections = cluster.TcpConnections;
        if (!connections.TryOpen())
        {
            // Envoy's upstream_cx_overflow: the client's connection is closed at once.
            cluster.Stats.RecordOverflow();
            record.Flags |= ResponseFlags.UpstreamOverflow;
            return;
        }

        UpstreamEndpoint? endpoint = null;
        try
        {
            endpoint = cluster.PickEndpoint(SourceIpHash(cluster, record), random);
            if (endpoint is null)
            {
                record.Flags |= ResponseFlags.NoHealthyUpstream;
                return;
            }

            record.Upstream = endpoint.HashKey;
            record.Endpoint = endpoint;
            record.UpstreamPod = endpoint.Pod;
            if (cluster.TracksActiveRequests)
            {
                // Least request balances TCP by connections open.
                endpoint.BeginRequest();
            }

            using var upstream = await ConnectAsync(cluster, endpoint, abort);
            if (upstream is null)
            {
                cluster.Outlier?.Record(endpoint, 503);
                record.Flags |= ResponseFlags.UpstreamConnectionFailure;
                return;
            }

            cluster.Outlier?.Record(endpoint, 200);
            using var session = new TcpSession(downstream, upstream, record, cluster.TcpIdleTimeout ?? DefaultIdleTimeout, time, abort);
            await session.RunAsync(head);
        }
        finally
        {
            if (endpoint is not null && cluster.TracksActiveRequests)
            {
                endpoint.EndRequest();
            }

            connections.Close();
        }
    }

    /// <summary>Envoy's tcp_proxy hashes on the source IP only; other keys have no meaning for a byte stream.</summary>
    private static ulong? SourceIpHash(CompiledCluster cluster, TcpConnectionRecord record)
    {
        if (cluster.Hash is not { UsesSourceIp: true } || record.Downstream?.Address is not { } ip)
        {
            return null;
        }

        Span<char> text = stackalloc char[64];
        return ip.TryFormat(text, out var written) ? XxHash64.Hash(text[..written]) : null;
    }

    private static async Task<Socket?> ConnectAsync(CompiledCluster cluster, UpstreamEndpoint endpoint, CancellationToken abort)
    {
        EndPoint target = IPAddress.TryParse(endpoint.Address, out var ip) ? new IPEndPoint(ip, endpoint.Port) : new DnsEndPoint(endpoint.Address, endpoint.Port);
        var socket = ip is null ? new Socket(SocketType.Stream, ProtocolType.Tcp) : new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(abort);
        timeout.CancelAfter(cluster.ConnectTimeout ?? DefaultConnectTimeout);
        try
        {
            socket.NoDelay = true;
            await socket.ConnectAsync(target, timeout.Token);
            return socket;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            socket.Dispose();
            return null;
        }
    }

    /// <summary>Reads until the ClientHello is whole (or shown not to be one); the bytes read are forwarded as they are.</summary>
    private async Task<Head> PeekClientHelloAsync(Socket downstream, TcpConnectionRecord record, CancellationToken abort)
    {
        var buffer = new byte[4096];
        var length = 0;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(abort);
        timeout.CancelAfter(ClientHelloTimeout);
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    Array.Resize(ref buffer, Math.Min(buffer.Length * 2, ClientHello.MaxBytes));
                }

                var n = await downstream.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, timeout.Token);
                if (n == 0)
                {
                    // The client closed before a hello: nothing to route, nothing to forward.
                    return new Head(default, Closed: true);
                }

                length += n;
                var status = ClientHello.TryReadServerName(buffer.AsSpan(0, length), out var sni);
                if (status == ClientHelloStatus.NeedMoreData && length < ClientHello.MaxBytes)
                {
                    continue;
                }

                // Not TLS (or too large): routed without SNI, as Envoy's tls_inspector lets it through.
                record.Sni = status == ClientHelloStatus.Complete ? sni : null;
                return new Head(new ArraySegment<byte>(buffer, 0, length), Closed: false);
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Timed out (Envoy closes on the listener filter timeout), reset, or the listener is stopping.
            return new Head(default, Closed: true);
        }
    }

    private readonly record struct Head(ArraySegment<byte> Bytes, bool Closed);
}
