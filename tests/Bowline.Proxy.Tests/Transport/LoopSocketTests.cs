using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Bowline.Proxy.Tests.Infrastructure;
using Bowline.Proxy.Transport;

namespace Bowline.Proxy.Tests.Transport;

public sealed class LoopSocketTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ConnectSendReceive_EchoServer_BytesComeBackInOrder()
    {
        await using var pair = await Pair.ConnectAsync();
        await pair.Loop.SendAsync(Encoding.ASCII.GetBytes("hello"), CancellationToken.None);
        var buffer = new byte[16];
        var n = await pair.Server.ReceiveAsync(buffer);
        Assert.Equal("hello", Encoding.ASCII.GetString(buffer, 0, n));

        // The read waits for the readable event (nothing is there when it starts).
        var read = pair.Loop.ReceiveAsync(buffer, CancellationToken.None).AsTask();
        Assert.False(read.IsCompleted);
        await pair.Server.SendAsync(Encoding.ASCII.GetBytes("world"));
        n = await read.WaitAsync(Guard);
        Assert.Equal("world", Encoding.ASCII.GetString(buffer, 0, n));
    }

    [Fact]
    public async Task Receive_DataAndFinArriveTogether_DataThenEndOfStream()
    {
        await using var pair = await Pair.ConnectAsync();
        await pair.Server.SendAsync(Encoding.ASCII.GetBytes("last words"));
        pair.Server.Shutdown(SocketShutdown.Send);
        await Task.Delay(50);

        var buffer = new byte[64];
        var n = await pair.Loop.ReceiveAsync(buffer, CancellationToken.None).AsTask().WaitAsync(Guard);
        Assert.Equal("last words", Encoding.ASCII.GetString(buffer, 0, n));
        // The short read must not be taken for "drained": the FIN came with the same event and no other follows.
        Assert.Equal(0, await pair.Loop.ReceiveAsync(buffer, CancellationToken.None).AsTask().WaitAsync(Guard));
    }

    [Fact]
    public async Task Send_MoreThanTheSocketBuffers_CompletesAsThePeerReads()
    {
        await using var pair = await Pair.ConnectAsync();
        var payload = new byte[8 * 1024 * 1024];
        Random.Shared.NextBytes(payload);
        var send = pair.Loop.SendAsync(payload, CancellationToken.None).AsTask();
        Assert.False(send.IsCompleted, "8 MB cannot fit the loopback socket buffers: the send must wait for writable");

        var received = new byte[payload.Length];
        var total = 0;
        while (total < received.Length)
        {
            total += await pair.Server.ReceiveAsync(received.AsMemory(total));
        }

        await send.WaitAsync(Guard);
        Assert.Equal(payload, received);
    }

    [Fact]
    public async Task Send_SequenceOfSeveralSegments_ArrivesInOrder()
    {
        await using var pair = await Pair.ConnectAsync();
        var first = new Segment(Encoding.ASCII.GetBytes("head|"));
        var last = first.Append(Encoding.ASCII.GetBytes("body|")).Append(Encoding.ASCII.GetBytes("tail"));
        await pair.Loop.SendAsync(new ReadOnlySequence<byte>(first, 0, last, 4), CancellationToken.None);

        var buffer = new byte[64];
        var total = 0;
        while (total < 14)
        {
            total += await pair.Server.ReceiveAsync(buffer.AsMemory(total));
        }

        Assert.Equal("head|body|tail", Encoding.ASCII.GetString(buffer, 0, total));
    }

    [Fact]
    public async Task Receive_Cancelled_ThrowsAndTheNextReceiveStillWorks()
    {
        await using var pair = await Pair.ConnectAsync();
        using var cancel = new CancellationTokenSource();
        var buffer = new byte[16];
        var read = pair.Loop.ReceiveAsync(buffer, cancel.Token).AsTask();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read.WaitAsync(Guard));

        await pair.Server.SendAsync(Encoding.ASCII.GetBytes("after"));
        var n = await pair.Loop.ReceiveAsync(buffer, CancellationToken.None).AsTask().WaitAsync(Guard);
        Assert.Equal("after", Encoding.ASCII.GetString(buffer, 0, n));
    }

    [Fact]
    public async Task Receive_StartedByTheContinuationOfAnEventCompletedOne_StillCancellable()
    {
        await using var pair = await Pair.ConnectAsync();
        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();
        var buffer = new byte[16];
        Task<int>? next = null;

        // The first receive completes on the loop thread, which runs this continuation inline: the second receive
        // registers its cancellation while the first one's completion is still on the stack.
        async Task ChainAsync()
        {
            await pair.Loop.ReceiveAsync(buffer, first.Token);
            next = pair.Loop.ReceiveAsync(buffer, second.Token).AsTask();
        }

        var chain = ChainAsync();
        await pair.Server.SendAsync(Encoding.ASCII.GetBytes("x"));
        await chain.WaitAsync(Guard);
        await second.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => next!.WaitAsync(Guard));
    }

    [Fact]
    public async Task Dispose_WithAReceiveWaiting_FailsItWithOperationAborted()
    {
        await using var pair = await Pair.ConnectAsync();
        var read = pair.Loop.ReceiveAsync(new byte[16], CancellationToken.None).AsTask();
        pair.Loop.Dispose();
        var e = await Assert.ThrowsAsync<SocketException>(() => read.WaitAsync(Guard));
        Assert.Equal(SocketError.OperationAborted, e.SocketErrorCode);
        // And a receive started afterwards fails at once instead of waiting for an event that cannot come.
        await Assert.ThrowsAsync<SocketException>(() => pair.Loop.ReceiveAsync(new byte[16], CancellationToken.None).AsTask().WaitAsync(Guard));
    }

    [Fact]
    public async Task Receive_PeerResets_SocketExceptionConnectionReset()
    {
        await using var pair = await Pair.ConnectAsync();
        var read = pair.Loop.ReceiveAsync(new byte[16], CancellationToken.None).AsTask();
        pair.Server.LingerState = new LingerOption(true, 0);
        pair.Server.Close();
        var e = await Assert.ThrowsAsync<SocketException>(() => read.WaitAsync(Guard));
        Assert.Equal(SocketError.ConnectionReset, e.SocketErrorCode);
    }

    [Fact]
    public async Task Connect_NothingListening_ConnectionRefused()
    {
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        var e = await Assert.ThrowsAsync<SocketException>(() => LoopSocket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), CancellationToken.None).AsTask().WaitAsync(Guard));
        Assert.Equal(SocketError.ConnectionRefused, e.SocketErrorCode);
    }

    [Fact]
    public async Task ReadableCheck_IdleConnection_FalseUntilThePeerCloses()
    {
        await using var pair = await Pair.ConnectAsync();
        Assert.False(pair.Loop.Readable());
        pair.Server.Shutdown(SocketShutdown.Send);
        await Polling.UntilAsync(pair.Loop.Readable);
    }

    [Fact]
    public async Task ManyConcurrentExchanges_OnOneLoop_EveryByteAccountedFor()
    {
        const int Connections = 32;
        const int Rounds = 200;
        var pairs = new Pair[Connections];
        for (var i = 0; i < Connections; i++)
        {
            pairs[i] = await Pair.ConnectAsync();
        }

        try
        {
            // Each server side echoes; each loop side sends a numbered message and expects it back, Rounds times.
            var echoes = pairs.Select(p => Task.Run(async () =>
            {
                var buffer = new byte[256];
                while (true)
                {
                    var n = await p.Server.ReceiveAsync(buffer);
                    if (n == 0)
                    {
                        return;
                    }

                    await p.Server.SendAsync(buffer.AsMemory(0, n));
                }
            })).ToArray();
            var clients = pairs.Select((p, k) => Task.Run(async () =>
            {
                var buffer = new byte[64];
                for (var r = 0; r < Rounds; r++)
                {
                    var message = Encoding.ASCII.GetBytes($"{k}:{r};");
                    await p.Loop.SendAsync(message, CancellationToken.None);
                    var got = 0;
                    while (got < message.Length)
                    {
                        got += await p.Loop.ReceiveAsync(buffer.AsMemory(got), CancellationToken.None);
                    }

                    Assert.Equal(message, buffer[..got]);
                }

                // The close (FIN) ends the server side's echo loop.
                p.Loop.Dispose();
            })).ToArray();
            await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(60));
            await Task.WhenAll(echoes).WaitAsync(Guard);
        }
        finally
        {
            foreach (var pair in pairs)
            {
                await pair.DisposeAsync();
            }
        }
    }

    private sealed class Pair : IAsyncDisposable
    {
        private Pair(LoopSocket loop, Socket server)
        {
            Loop = loop;
            Server = server;
        }

        public LoopSocket Loop { get; }

        public Socket Server { get; }

        public static async Task<Pair> ConnectAsync()
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen();
            var accept = listener.AcceptAsync();
            var loop = await LoopSocket.ConnectAsync((IPEndPoint)listener.LocalEndPoint!, CancellationToken.None).AsTask().WaitAsync(Guard);
            return new Pair(loop, await accept.WaitAsync(Guard));
        }

        public ValueTask DisposeAsync()
        {
            Loop.Dispose();
            Server.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
