using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Bowline.Api.Xds;
using Bowline.Proxy.Tests.Infrastructure;
using Bowline.Proxy.Xds;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bowline.Proxy.Tests.Xds;

/// <summary>
/// The control-plane stream's keep-alive on a fake clock: a ping every 15 s; a control plane that vanished without
/// closing (no FIN, no RST — its host gone) is noticed and the stream re-established; one that answers is kept.
/// </summary>
public sealed class XdsKeepAliveTests
{
    private const byte Text = 0x1, Ping = 0x9;
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);
    private static readonly Node Node = new() { Id = "reviews-v1-0.default", Pod = "reviews-v1-0", Namespace = "default" };

    [Fact]
    public async Task RunAsync_ControlPlaneSilentAfterAPing_StreamDroppedAndReestablished()
    {
        var time = new ManualTimeProvider();
        await using var controlPlane = RawControlPlane.Start(answerPings: false);
        await using var proxy = new ProxyUnderTest();
        using var stop = new CancellationTokenSource();
        var running = NewClient(controlPlane, proxy, time).RunAsync(stop.Token);

        var first = await controlPlane.NextConnectionAsync();
        Assert.Equal(Text, await first.NextOpcodeAsync());
        await Polling.UntilAsync(() => time.PendingTimers > 0);
        time.Advance(Interval);
        Assert.Equal(Ping, await first.NextOpcodeAsync());
        Assert.False(first.Closed.IsCompleted);

        // A whole interval with the ping unanswered: the proxy gives the stream up and dials again (after its backoff).
        time.Advance(Interval);
        await first.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        await Polling.UntilAsync(() =>
        {
            time.Advance(TimeSpan.FromSeconds(1));
            return controlPlane.Accepted > 1;
        });
        var second = await controlPlane.NextConnectionAsync();
        Assert.Equal(Text, await second.NextOpcodeAsync());

        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task RunAsync_ControlPlaneAnswersEveryPing_StreamKeptForAMinuteOfSilence()
    {
        var time = new ManualTimeProvider();
        await using var controlPlane = RawControlPlane.Start(answerPings: true);
        await using var proxy = new ProxyUnderTest();
        using var stop = new CancellationTokenSource();
        var client = NewClient(controlPlane, proxy, time);
        var running = client.RunAsync(stop.Token);

        var first = await controlPlane.NextConnectionAsync();
        Assert.Equal(Text, await first.NextOpcodeAsync());
        await Polling.UntilAsync(() => time.PendingTimers > 0);
        for (var tick = 0; tick < 4; tick++)
        {
            var reads = client.StreamReads;
            time.Advance(Interval);
            Assert.Equal(Ping, await first.NextOpcodeAsync());
            // The pong consumed before the clock moves on, as it would be long before a real 15 s went by.
            await Polling.UntilAsync(() => client.StreamReads > reads);
        }

        Assert.False(first.Closed.IsCompleted);
        Assert.Equal(1, controlPlane.Accepted);

        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private static XdsClient NewClient(RawControlPlane controlPlane, ProxyUnderTest proxy, TimeProvider time)
    {
        var options = new XdsClientOptions(controlPlane.Url, Node) { InitialBackoff = TimeSpan.FromSeconds(1), MaxBackoff = TimeSpan.FromSeconds(2) };
        return new XdsClient(options, proxy.Manager, time, NullLogger<XdsClient>.Instance);
    }

    /// <summary>A control plane reduced to its WebSocket: accepts and handshakes every connection, reads the proxy's frames.</summary>
    private sealed class RawControlPlane : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly Channel<Connection> _connections = Channel.CreateUnbounded<Connection>();
        private readonly List<Connection> _all = [];
        private readonly bool _answerPings;
        private readonly Task _accepting;
        private int _accepted;

        private RawControlPlane(bool answerPings)
        {
            _answerPings = answerPings;
            _listener.Start();
            Url = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
            _accepting = AcceptAsync();
        }

        public Uri Url { get; }

        public int Accepted => Volatile.Read(ref _accepted);

        public static RawControlPlane Start(bool answerPings) => new(answerPings);

        public async Task<Connection> NextConnectionAsync() =>
            await _connections.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        private async Task AcceptAsync()
        {
            while (true)
            {
                Socket socket;
                try
                {
                    socket = await _listener.AcceptSocketAsync();
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    return;
                }

                Interlocked.Increment(ref _accepted);
                var connection = new Connection(new NetworkStream(socket, ownsSocket: true), _answerPings);
                lock (_all)
                {
                    _all.Add(connection);
                }

                await _connections.Writer.WriteAsync(connection);
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            await _accepting;
            lock (_all)
            {
                _all.ForEach(c => c.Dispose());
            }
        }
    }

    private sealed class Connection : IDisposable
    {
        private readonly NetworkStream _stream;
        private readonly bool _answerPings;
        private readonly Channel<byte> _opcodes = Channel.CreateUnbounded<byte>();
        private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Connection(NetworkStream stream, bool answerPings)
        {
            _stream = stream;
            _answerPings = answerPings;
            _ = ServeAsync();
        }

        /// <summary>Completes when the proxy closed or reset the connection.</summary>
        public Task Closed => _closed.Task;

        public async Task<byte> NextOpcodeAsync() => await _opcodes.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        private async Task ServeAsync()
        {
            try
            {
                var key = await ReadHandshakeKeyAsync();
                await _stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + $"Sec-WebSocket-Accept: {WebSocketConnector.ExpectedAccept(key)}\r\n\r\n"));
                var head = new byte[2];
                while (true)
                {
                    await _stream.ReadExactlyAsync(head);
                    var length = head[1] & 0x7F;
                    if (length >= 126)
                    {
                        var extended = new byte[length == 126 ? 2 : 8];
                        await _stream.ReadExactlyAsync(extended);
                        length = (int)(length == 126 ? (extended[0] << 8) | extended[1] : System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(extended));
                    }

                    // Mask key and payload: only the opcode matters here.
                    await _stream.ReadExactlyAsync(new byte[4 + length]);
                    var opcode = (byte)(head[0] & 0x0F);
                    if (opcode == Ping && _answerPings)
                    {
                        await _stream.WriteAsync(new byte[] { 0x8A, 0x00 });
                    }

                    await _opcodes.Writer.WriteAsync(opcode);
                }
            }
            catch (Exception e) when (e is IOException or EndOfStreamException or ObjectDisposedException or SocketException)
            {
                _closed.TrySetResult();
            }
        }

        private async Task<string> ReadHandshakeKeyAsync()
        {
            var head = new StringBuilder();
            var one = new byte[1];
            while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
            {
                await _stream.ReadExactlyAsync(one);
                head.Append((char)one[0]);
            }

            var line = head.ToString().Split("\r\n").First(l => l.StartsWith("Sec-WebSocket-Key:", StringComparison.OrdinalIgnoreCase));
            return line["Sec-WebSocket-Key:".Length..].Trim();
        }

        public void Dispose() => _stream.Dispose();
    }
}
