using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading.Channels;
using Bowline.Api.Xds;
using Bowline.Proxy.Forwarding;
using Bowline.Proxy.Listeners;
using Bowline.Proxy.Listeners.Tcp;
using Bowline.Proxy.LoadBalancing;
using Bowline.Proxy.Pipeline;
using Bowline.Proxy.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bowline.Proxy.Tests.Tcp;

/// <summary>TCP and TLS passthrough listeners on real sockets: the proxy between a real client and real upstreams.</summary>
public sealed class TcpProxyTests : IAsyncDisposable
{
    private readonly HttpMessageInvoker _http = UpstreamClient.Create();
    private readonly Observer _observer = new();
    private readonly ListenerManager _manager;

    public TcpProxyTests() : this(TimeProvider.System)
    {
    }

    private TcpProxyTests(TimeProvider time)
    {
        _manager = new ListenerManager(new Forwarder(_http, time), SharedRandomSource.Instance, null, NullLoggerFactory.Instance, time, tcpObserver: _observer);
    }

    [Fact]
    public async Task TcpGateway_Echo_BytesGoThroughAndAreCounted()
    {
        await using var echo = TcpTestServer.Echo("one ");
        await ApplyAsync(TcpGateway("gateway|31400", Route("to-echo", "echo")), Cluster("echo", echo.Port));

        using var client = await ConnectAsync("gateway|31400");
        await client.SendAsync("hello\n"u8.ToArray(), SocketFlags.None);
        var answer = await ReadExactlyAsync(client, "one hello\n".Length);
        client.Shutdown(SocketShutdown.Send);
        Assert.Equal(0, await client.ReceiveAsync(new byte[16], SocketFlags.None));

        Assert.Equal("one hello\n", answer);
        var record = await _observer.ClosedAsync();
        Assert.Equal(6, record.ReceivedBytes);
        Assert.Equal(10, record.SentBytes);
        Assert.Equal("echo", record.Cluster);
        Assert.Equal("to-echo", record.Route);
        Assert.Equal(ResponseFlags.None, record.Flags);
    }

    [Fact]
    public async Task TcpGateway_ClosedConnection_IsCountedInIstioTcpMetricsWithItsBytes()
    {
        await using var echo = TcpTestServer.Echo("two ");
        await ApplyAsync(TcpGateway("gateway|31400", Route("to-echo", "echo")), Cluster("echo", echo.Port));

        using (var client = await ConnectAsync("gateway|31400"))
        {
            await client.SendAsync("hey\n"u8.ToArray(), SocketFlags.None);
            Assert.Equal("two hey\n", await ReadExactlyAsync(client, "two hey\n".Length));
            client.Shutdown(SocketShutdown.Send);
            Assert.Equal(0, await client.ReceiveAsync(new byte[16], SocketFlags.None));
        }

        await _observer.ClosedAsync();
        var text = _manager.Metrics.Render();
        // A gateway reports as the source; the metrics observer runs before the test's, so the counts are in.
        Assert.Equal(1, Sample(text, "istio_tcp_connections_opened_total"));
        Assert.Equal(1, Sample(text, "istio_tcp_connections_closed_total"));
        Assert.Equal(4, Sample(text, "istio_tcp_received_bytes_total"));
        Assert.Equal(8, Sample(text, "istio_tcp_sent_bytes_total"));

        static long Sample(string text, string name)
        {
            var line = Assert.Single(text.Split('\n'), l => l.StartsWith(name + "{", StringComparison.Ordinal));
            Assert.Contains("reporter=\"source\"", line, StringComparison.Ordinal);
            Assert.Contains("request_protocol=\"tcp\"", line, StringComparison.Ordinal);
            Assert.Contains("response_flags=\"-\"", line, StringComparison.Ordinal);
            return long.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    [Fact]
    public async Task HalfClose_ClientShutsDownWrites_UpstreamSeesFinAndItsReplyStillArrives()
    {
        // The upstream answers only after reading EOF: it must see the client's FIN, and its answer must still flow back.
        await using var counter = TcpTestServer.Start(async s =>
        {
            var total = 0;
            var buffer = new byte[8192];
            int n;
            while ((n = await s.ReceiveAsync(buffer, SocketFlags.None)) > 0)
            {
                total += n;
            }

            await s.SendAsync(Encoding.ASCII.GetBytes($"got {total} bytes"), SocketFlags.None);
            s.Shutdown(SocketShutdown.Send);
        });
        await ApplyAsync(TcpGateway("gw", Route("r", "counter")), Cluster("counter", counter.Port));

        using var client = await ConnectAsync("gw");
        await client.SendAsync(new byte[100_000], SocketFlags.None);
        client.Shutdown(SocketShutdown.Send);
        var reply = await ReadToEndAsync(client);

        Assert.Equal("got 100000 bytes", Encoding.ASCII.GetString(reply));
        var record = await _observer.ClosedAsync();
        Assert.Equal(100_000, record.ReceivedBytes);
        Assert.Equal(16, record.SentBytes);
        Assert.Equal(ResponseFlags.None, record.Flags);
    }

    [Fact]
    public async Task HalfClose_UpstreamShutsDownFirst_ClientStillUploadsEverything()
    {
        // The reverse direction: the server says its piece and half-closes, then keeps reading the client's upload.
        var received = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var greeter = TcpTestServer.Start(async s =>
        {
            await s.SendAsync("bye"u8.ToArray(), SocketFlags.None);
            s.Shutdown(SocketShutdown.Send);
            var total = 0;
            var buffer = new byte[8192];
            int n;
            while ((n = await s.ReceiveAsync(buffer, SocketFlags.None)) > 0)
            {
                total += n;
            }

            received.TrySetResult(total);
        });
        await ApplyAsync(TcpGateway("gw", Route("r", "greeter")), Cluster("greeter", greeter.Port));

        using var client = await ConnectAsync("gw");
        Assert.Equal("bye", Encoding.ASCII.GetString(await ReadToEndAsync(client)));
        await client.SendAsync(new byte[50_000], SocketFlags.None);
        client.Shutdown(SocketShutdown.Send);

        Assert.Equal(50_000, await received.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        var record = await _observer.ClosedAsync();
        Assert.Equal((50_000L, 3L, ResponseFlags.None), (record.ReceivedBytes, record.SentBytes, record.Flags));
    }

    [Fact]
    public async Task LargeTransfer_BothWays_ByteExactWithCounts()
    {
        await using var echo = TcpTestServer.Echo();
        await ApplyAsync(TcpGateway("gw", Route("r", "echo")), Cluster("echo", echo.Port));
        var payload = new byte[8 * 1024 * 1024];
        new Random(42).NextBytes(payload);

        using var client = await ConnectAsync("gw");
        var send = Task.Run(async () =>
        {
            await client.SendAsync(payload, SocketFlags.None);
            client.Shutdown(SocketShutdown.Send);
        });
        var received = await ReadToEndAsync(client);
        await send;

        Assert.Equal(payload.Length, received.Length);
        Assert.True(payload.AsSpan().SequenceEqual(received), "the echoed bytes differ");
        var record = await _observer.ClosedAsync();
        Assert.Equal(payload.Length, record.ReceivedBytes);
        Assert.Equal(payload.Length, record.SentBytes);
    }

    [Fact]
    public async Task ConnectFailure_ClosesTheClientWithUF()
    {
        await ApplyAsync(TcpGateway("gw", Route("r", "dead")), Cluster("dead", FreePort.Get()));

        using var client = await ConnectAsync("gw");
        var closed = await ReadToEndOrResetAsync(client);

        Assert.True(closed);
        var record = await _observer.ClosedAsync();
        Assert.Equal(ResponseFlags.UpstreamConnectionFailure, record.Flags);
        Assert.Equal(0, record.SentBytes);
    }

    [Fact]
    public async Task MaxConnections_Overflow_ClosesTheExtraConnectionWithUO()
    {
        await using var echo = TcpTestServer.Echo();
        var cluster = Cluster("echo", echo.Port) with { ConnectionPool = new ConnectionPool { MaxConnections = 1 } };
        await ApplyAsync(TcpGateway("gw", Route("r", "echo")), cluster);

        using var first = await ConnectAsync("gw");
        await first.SendAsync("x"u8.ToArray(), SocketFlags.None);
        Assert.Equal("x", await ReadExactlyAsync(first, 1)); // the first holds the only slot now
        using var second = await ConnectAsync("gw");
        var closed = await ReadToEndOrResetAsync(second);

        Assert.True(closed);
        var record = await _observer.ClosedAsync();
        Assert.Equal(ResponseFlags.UpstreamOverflow, record.Flags);
        Assert.Equal(1, echo.Accepted);
        first.Shutdown(SocketShutdown.Send);
        await ReadToEndAsync(first);
    }

    [Fact]
    public async Task NoRouteMatches_ClosesWithNR()
    {
        await using var echo = TcpTestServer.Echo();
        var route = Route("r", "echo") with { Matches = [new TcpRouteMatch { DestinationSubnets = ["10.0.0.0/8"] }] };
        await ApplyAsync(TcpGateway("gw", route), Cluster("echo", echo.Port));

        using var client = await ConnectAsync("gw");

        Assert.True(await ReadToEndOrResetAsync(client));
        Assert.Equal(ResponseFlags.NoRoute, (await _observer.ClosedAsync()).Flags);
        Assert.Equal(0, echo.Accepted);
    }

    [Fact]
    public async Task InboundTcpListener_ForwardsToItsCluster()
    {
        await using var echo = TcpTestServer.Echo("app ");
        var listener = new Listener { Name = "inbound|9000", Kind = ListenerKind.Inbound, Address = "127.0.0.1", Port = 0, Protocol = ListenerProtocol.Tcp, Cluster = "inbound|9000||" };
        await ApplyConfigAsync(new ProxyConfig { Listeners = [listener], Clusters = [Cluster("inbound|9000||", echo.Port)] });

        using var client = await ConnectAsync("inbound|9000");
        await client.SendAsync("ping"u8.ToArray(), SocketFlags.None);

        Assert.Equal("app ping", await ReadExactlyAsync(client, 8));
    }

    [Fact]
    public async Task IdleTimeout_NoBytesForTheTimeout_ClosesBothSides()
    {
        var clock = new ManualTimeProvider();
        await using var tests = new TcpProxyTests(clock);
        await using var echo = TcpTestServer.Echo();
        var cluster = Cluster("echo", echo.Port) with { ConnectionPool = new ConnectionPool { TcpIdleTimeout = TimeSpan.FromMinutes(5) } };
        await tests.ApplyAsync(TcpGateway("gw", Route("r", "echo")), cluster);

        using var client = await tests.ConnectAsync("gw");
        await client.SendAsync("x"u8.ToArray(), SocketFlags.None);
        Assert.Equal("x", await ReadExactlyAsync(client, 1));
        await Polling.UntilAsync(() => clock.PendingTimers > 0);
        clock.Advance(TimeSpan.FromMinutes(6));

        Assert.True(await ReadToEndOrResetAsync(client));
        Assert.True((await tests._observer.ClosedAsync()).IdleTimedOut);
    }

    [Fact]
    public async Task TlsPassthrough_RoutesBySni_AndTheHandshakeCompletesEndToEnd()
    {
        using var cert = SelfSigned("api.example.com");
        await using var api = TlsEchoServer(cert, "api");
        await using var other = TlsEchoServer(cert, "other");
        var byName = new TcpRoute
        {
            Name = "api",
            Matches = [new TcpRouteMatch { SniHosts = ["api.example.com"] }],
            Destinations = [new WeightedCluster { Cluster = "api" }],
        };
        var wildcard = new TcpRoute
        {
            Name = "wild",
            Matches = [new TcpRouteMatch { SniHosts = ["*.example.com"] }],
            Destinations = [new WeightedCluster { Cluster = "other" }],
        };
        var listener = TcpGateway("tls", byName, wildcard) with { Protocol = ListenerProtocol.Tls };
        await ApplyConfigAsync(new ProxyConfig { Listeners = [listener], Clusters = [Cluster("api", api.Port), Cluster("other", other.Port)] });

        Assert.Equal("api: hi", await TlsRoundTripAsync(ConnectAsync("tls"), "api.example.com", cert));
        Assert.Equal("api.example.com", (await _observer.ClosedAsync()).Sni);
        Assert.Equal("other: hi", await TlsRoundTripAsync(ConnectAsync("tls"), "www.example.com", cert));
        Assert.Equal("wild", (await _observer.ClosedAsync()).Route);
    }

    [Fact]
    public async Task TlsListener_HelloWithoutMatchingSni_ClosesWithNR()
    {
        await using var echo = TcpTestServer.Echo();
        var route = new TcpRoute { Matches = [new TcpRouteMatch { SniHosts = ["api.example.com"] }], Destinations = [new WeightedCluster { Cluster = "echo" }] };
        await ApplyConfigAsync(new ProxyConfig { Listeners = [TcpGateway("tls", route) with { Protocol = ListenerProtocol.Tls }], Clusters = [Cluster("echo", echo.Port)] });

        using var client = await ConnectAsync("tls");
        await client.SendAsync("GET / HTTP/1.1\r\n\r\n"u8.ToArray(), SocketFlags.None);

        Assert.True(await ReadToEndOrResetAsync(client));
        var record = await _observer.ClosedAsync();
        Assert.Equal(ResponseFlags.NoRoute, record.Flags);
        Assert.Null(record.Sni);
    }

    [Fact]
    public async Task ListenerSwitchesFromHttpToTcpOnTheSamePort_TheTcpServerTakesThePort()
    {
        await using var echo = TcpTestServer.Echo();
        var port = FreePort.Get();
        var http = new Listener { Name = "gateway|p", Kind = ListenerKind.Gateway, Address = "127.0.0.1", Port = port, RouteTable = "t" };
        await ApplyConfigAsync(new ProxyConfig { Listeners = [http], RouteTables = [new RouteTable { Name = "t" }] });

        await ApplyConfigAsync(new ProxyConfig { Listeners = [TcpGateway("gateway|p", Route("r", "echo")) with { Port = port }], Clusters = [Cluster("echo", echo.Port)] }, "v2");
        using var client = await ConnectAsync("gateway|p");
        await client.SendAsync("tcp"u8.ToArray(), SocketFlags.None);

        Assert.Equal("tcp", await ReadExactlyAsync(client, 3));
    }

    [Fact]
    public async Task OutlierDetection_ConnectFailureEjectsTheDeadEndpoint_LaterConnectionsReachTheLiveOne()
    {
        await using var echo = TcpTestServer.Echo();
        var cluster = new Cluster
        {
            Name = "pair",
            Endpoints = [new Endpoint { Address = "127.0.0.1", Port = FreePort.Get() }, new Endpoint { Address = "127.0.0.1", Port = echo.Port }],
            OutlierDetection = new OutlierDetection { Consecutive5xxErrors = 1, MaxEjectionPercent = 100, BaseEjectionTime = TimeSpan.FromHours(1) },
        };
        await ApplyAsync(TcpGateway("gw", Route("r", "pair")), cluster);

        // Round robin: of the first two connections one meets the dead endpoint (UF) and ejects it.
        var flags = new List<ResponseFlags>();
        for (var i = 0; i < 2; i++)
        {
            using var client = await ConnectAsync("gw");
            client.Shutdown(SocketShutdown.Send);
            await ReadToEndOrResetAsync(client);
            flags.Add((await _observer.ClosedAsync()).Flags);
        }

        Assert.Contains(ResponseFlags.UpstreamConnectionFailure, flags);
        for (var i = 0; i < 6; i++)
        {
            using var client = await ConnectAsync("gw");
            await client.SendAsync("up"u8.ToArray(), SocketFlags.None);
            Assert.Equal("up", await ReadExactlyAsync(client, 2));
            client.Shutdown(SocketShutdown.Send);
            await ReadToEndAsync(client);
            Assert.Equal(ResponseFlags.None, (await _observer.ClosedAsync()).Flags);
        }
    }

    [Fact]
    public async Task ConsistentHashOnSourceIp_EveryConnectionFromOneClientReachesOneEndpoint()
    {
        await using var a = TcpTestServer.Echo("a:");
        await using var b = TcpTestServer.Echo("b:");
        var cluster = new Cluster
        {
            Name = "hashed",
            Endpoints = [new Endpoint { Address = "127.0.0.1", Port = a.Port }, new Endpoint { Address = "127.0.0.1", Port = b.Port }],
            LoadBalancer = new LoadBalancer { ConsistentHash = new ConsistentHash { UseSourceIp = true } },
        };
        await ApplyAsync(TcpGateway("gw", Route("r", "hashed")), cluster);

        var answers = new HashSet<string>();
        for (var i = 0; i < 10; i++)
        {
            using var client = await ConnectAsync("gw");
            await client.SendAsync("x"u8.ToArray(), SocketFlags.None);
            answers.Add(await ReadExactlyAsync(client, 3));
            client.Shutdown(SocketShutdown.Send);
            await ReadToEndAsync(client);
        }

        Assert.Single(answers);
    }

    [Fact]
    public async Task WeightedDestinations_SplitConnectionsByWeight()
    {
        await using var one = TcpTestServer.Echo("1");
        await using var two = TcpTestServer.Echo("2");
        var route = new TcpRoute
        {
            Destinations = [new WeightedCluster { Cluster = "one", Weight = 80 }, new WeightedCluster { Cluster = "two", Weight = 20 }],
        };
        await ApplyConfigAsync(new ProxyConfig { Listeners = [TcpGateway("gw", route)], Clusters = [Cluster("one", one.Port), Cluster("two", two.Port)] });

        var twos = 0;
        for (var i = 0; i < 200; i++)
        {
            using var client = await ConnectAsync("gw");
            await client.SendAsync("x"u8.ToArray(), SocketFlags.None);
            twos += await ReadExactlyAsync(client, 2) == "2x" ? 1 : 0;
            client.Shutdown(SocketShutdown.Send);
            await ReadToEndAsync(client);
        }

        // Binomial(200, 0.2): ±5 sd around 40.
        Assert.InRange(twos, 12, 68);
    }

    // ---- helpers ----

    private static Listener TcpGateway(string name, params TcpRoute[] routes) => new()
    {
        Name = name,
        Kind = ListenerKind.Gateway,
        Address = "127.0.0.1",
        Port = 0,
        Protocol = ListenerProtocol.Tcp,
        TcpRoutes = [.. routes],
    };

    private static TcpRoute Route(string name, string cluster) => new() { Name = name, Destinations = [new WeightedCluster { Cluster = cluster }] };

    private static Cluster Cluster(string name, int port) => new() { Name = name, Endpoints = [new Endpoint { Address = "127.0.0.1", Port = port }] };

    private Task ApplyAsync(Listener listener, Cluster cluster) => ApplyConfigAsync(new ProxyConfig { Listeners = [listener], Clusters = [cluster] });

    private async Task ApplyConfigAsync(ProxyConfig config, string version = "v1")
    {
        var error = await _manager.ApplyAsync(version, config, CancellationToken.None);
        Assert.Null(error);
    }

    private async Task<Socket> ConnectAsync(string listener)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(_manager.Current!.BoundEndpoints[listener]);
        return socket;
    }

    private static async Task<string> ReadExactlyAsync(Socket socket, int count)
    {
        var buffer = new byte[count];
        var read = 0;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (read < count)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, cts.Token);
            Assert.NotEqual(0, n);
            read += n;
        }

        return Encoding.ASCII.GetString(buffer);
    }

    private static async Task<byte[]> ReadToEndAsync(Socket socket)
    {
        using var all = new MemoryStream();
        var buffer = new byte[64 * 1024];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0)
        {
            all.Write(buffer, 0, n);
        }

        return all.ToArray();
    }

    /// <summary>True when the proxy closed the connection (FIN or reset) with no bytes sent.</summary>
    private static async Task<bool> ReadToEndOrResetAsync(Socket socket)
    {
        try
        {
            return (await ReadToEndAsync(socket)).Length == 0;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
    }

    private static X509Certificate2 SelfSigned(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        // Exported and re-imported so the private key is usable by SslStream on Linux.
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>A TLS server answering "name: " + what it reads, on a TCP test server.</summary>
    private static TcpTestServer TlsEchoServer(X509Certificate2 cert, string name) => TcpTestServer.Start(async s =>
    {
        await using var tls = new SslStream(new NetworkStream(s, ownsSocket: false));
        await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = cert });
        var buffer = new byte[256];
        var n = await tls.ReadAsync(buffer);
        await tls.WriteAsync(Encoding.ASCII.GetBytes($"{name}: {Encoding.ASCII.GetString(buffer, 0, n)}"));
        await tls.ShutdownAsync();
    });

    private static async Task<string> TlsRoundTripAsync(Task<Socket> connecting, string sni, X509Certificate2 expected)
    {
        using var socket = await connecting;
        // The upstream's own certificate arrives untouched: the proxy terminates nothing.
        await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false), false,
            (_, presented, _, _) => presented is not null && presented.GetCertHashString() == expected.Thumbprint);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = sni });
        await tls.WriteAsync("hi"u8.ToArray());
        var buffer = new byte[256];
        var read = 0;
        int n;
        while ((n = await tls.ReadAsync(buffer.AsMemory(read))) > 0)
        {
            read += n;
        }

        return Encoding.ASCII.GetString(buffer, 0, read);
    }

    public async ValueTask DisposeAsync()
    {
        await _manager.DisposeAsync();
        _http.Dispose();
    }

    /// <summary>Collects closed connections in order.</summary>
    private sealed class Observer : ITcpConnectionObserver
    {
        private readonly Channel<TcpConnectionRecord> _closed = Channel.CreateUnbounded<TcpConnectionRecord>();

        public void OnTcpConnectionOpened(TcpConnectionRecord connection)
        {
        }

        public void OnTcpConnectionClosed(TcpConnectionRecord connection)
        {
            _closed.Writer.TryWrite(connection);
        }

        public async Task<TcpConnectionRecord> ClosedAsync()
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            return await _closed.Reader.ReadAsync(cts.Token);
        }
    }
}
