using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Bowline.Proxy.Listeners.Tcp;

namespace Bowline.Proxy.Tests.Tcp;

/// <summary>The SNI reader against real ClientHellos (SslStream live, openssl s_client captured), split and broken.</summary>
public sealed class ClientHelloTests
{
    /// <summary>
    /// The first TLS record of `openssl s_client -connect 127.0.0.1:PORT -servername openssl.bowline.test`
    /// (OpenSSL 3.0.19), captured on a plain socket.
    /// </summary>
    private static readonly byte[] OpenSslHello = Convert.FromHexString(
        "16030101410100013d0303ba4f0b72c3362975c5fa632ca57184242d9f6d9759546f15a00aa2ba2b29b4a62060a0da0c995fa1714b167fdb9bdf10f150ee193e72328dfaebb46d14844f3045003e130213031301c02cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff010000b60000001900170000146f70656e73736c2e626f776c696e652e74657374000b000403000102000a00160014001d0017001e0019001801000101010201030104002300000016000000170000000d002a0028040305030603080708080809080a080b080408050806040105010601030303010302040205020602002b0009080304030303020301002d00020101003300260024001d00200e26e391e5a5c33409b04a2344233dd0b4e075c1756ac18dd41baaa94782a94a");

    [Fact]
    public void OpenSslHello_Whole_GivesItsServerName()
    {
        Assert.Equal(ClientHelloStatus.Complete, ClientHello.TryReadServerName(OpenSslHello, out var sni));
        Assert.Equal("openssl.bowline.test", sni);
    }

    [Fact]
    public async Task SslStreamHello_Live_GivesItsServerName()
    {
        var hello = await CaptureSslStreamHelloAsync("SslStream.Bowline.Test");

        Assert.Equal(ClientHelloStatus.Complete, ClientHello.TryReadServerName(hello, out var sni));
        Assert.Equal("sslstream.bowline.test", sni); // lower case, as names compare
    }

    [Fact]
    public async Task SslStreamHello_ToAnIpAddress_HasNoServerName()
    {
        // SslStream sends no SNI for an IP literal (RFC 6066 forbids it): a complete hello without a name.
        var hello = await CaptureSslStreamHelloAsync("127.0.0.1");

        Assert.Equal(ClientHelloStatus.Complete, ClientHello.TryReadServerName(hello, out var sni));
        Assert.Null(sni);
    }

    [Fact]
    public void EveryPrefix_NeedsMoreData_UntilTheLastByte()
    {
        for (var length = 0; length < OpenSslHello.Length; length++)
        {
            Assert.Equal(ClientHelloStatus.NeedMoreData, ClientHello.TryReadServerName(OpenSslHello.AsSpan(0, length), out _));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(100)]
    public void HelloFragmentedAcrossRecords_IsReassembled(int fragment)
    {
        var split = Refragment(OpenSslHello, fragment);

        for (var length = 0; length < split.Length; length++)
        {
            Assert.Equal(ClientHelloStatus.NeedMoreData, ClientHello.TryReadServerName(split.AsSpan(0, length), out _));
        }

        Assert.Equal(ClientHelloStatus.Complete, ClientHello.TryReadServerName(split, out var sni));
        Assert.Equal("openssl.bowline.test", sni);
    }

    [Fact]
    public void BytesAfterTheHello_AreIgnored()
    {
        byte[] more = [.. OpenSslHello, 0x17, 0x03, 0x03, 0x00, 0x01, 0x00];

        Assert.Equal(ClientHelloStatus.Complete, ClientHello.TryReadServerName(more, out var sni));
        Assert.Equal("openssl.bowline.test", sni);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")]
    [InlineData("\u0016\u0002")]
    public void NotTls_IsToldAtOnce(string text)
    {
        Assert.Equal(ClientHelloStatus.NotClientHello, ClientHello.TryReadServerName(System.Text.Encoding.Latin1.GetBytes(text), out var sni));
        Assert.Null(sni);
    }

    [Fact]
    public void OtherHandshakeMessage_IsNotAClientHello()
    {
        var serverHello = (byte[])OpenSslHello.Clone();
        serverHello[5] = 2;

        Assert.Equal(ClientHelloStatus.NotClientHello, ClientHello.TryReadServerName(serverHello, out _));
    }

    [Fact]
    public void ZeroLengthRecord_IsMalformed()
    {
        Assert.Equal(ClientHelloStatus.NotClientHello, ClientHello.TryReadServerName([0x16, 0x03, 0x01, 0x00, 0x00, 0x16], out _));
    }

    [Fact]
    public void ServerNameWithANulByte_IsMalformed()
    {
        var bad = (byte[])OpenSslHello.Clone();
        var at = bad.AsSpan().IndexOf("openssl.bowline.test"u8);
        bad[at + 3] = 0;

        Assert.Equal(ClientHelloStatus.NotClientHello, ClientHello.TryReadServerName(bad, out var sni));
        Assert.Null(sni);
    }

    [Fact]
    public void ServerNameLengthBeyondItsExtension_IsMalformed()
    {
        var bad = (byte[])OpenSslHello.Clone();
        var at = bad.AsSpan().IndexOf("openssl.bowline.test"u8);
        bad[at - 1] = 0xff; // host_name length low byte: now longer than the list that holds it

        Assert.Equal(ClientHelloStatus.NotClientHello, ClientHello.TryReadServerName(bad, out _));
    }

    [Fact]
    public void HandshakeLengthBeyondTheLimit_IsRejectedWithoutWaiting()
    {
        var bad = (byte[])OpenSslHello.Clone();
        bad[6] = 0x7f; // handshake length ~8 MB

        Assert.Equal(ClientHelloStatus.NotClientHello, ClientHello.TryReadServerName(bad, out _));
    }

    [Fact]
    public void RandomCorruption_NeverThrows()
    {
        var random = new Random(7);
        for (var i = 0; i < 20_000; i++)
        {
            var bad = (byte[])OpenSslHello.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
            {
                bad[random.Next(bad.Length)] = (byte)random.Next(256);
            }

            var length = random.Next(bad.Length + 1);
            var status = ClientHello.TryReadServerName(bad.AsSpan(0, length), out var sni);
            Assert.True(status != ClientHelloStatus.Complete || sni is null || sni.All(c => c > ' ' && c < 0x7f));
        }
    }

    /// <summary>Re-splits a single-record hello into records of at most <paramref name="size"/> payload bytes.</summary>
    private static byte[] Refragment(byte[] record, int size)
    {
        var payload = record.AsSpan(5);
        var result = new List<byte>();
        for (var offset = 0; offset < payload.Length; offset += size)
        {
            var chunk = payload.Slice(offset, Math.Min(size, payload.Length - offset));
            result.AddRange([record[0], record[1], record[2], (byte)(chunk.Length >> 8), (byte)chunk.Length]);
            result.AddRange(chunk.ToArray());
        }

        return [.. result];
    }

    /// <summary>What SslStream sends first as a client: read on a plain socket up to the end of the first record.</summary>
    private static async Task<byte[]> CaptureSslStreamHelloAsync(string targetHost)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!);
        using var server = await listener.AcceptAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var tls = new SslStream(new NetworkStream(client, ownsSocket: false));
        var handshake = tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = targetHost }, cts.Token);

        var data = new List<byte>();
        var buffer = new byte[4096];
        while (data.Count < 5 || data.Count < 5 + ((data[3] << 8) | data[4]))
        {
            var n = await server.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            Assert.NotEqual(0, n);
            data.AddRange(buffer.AsSpan(0, n).ToArray());
        }

        server.Close(); // the handshake fails; only its first flight mattered
        await Assert.ThrowsAnyAsync<Exception>(() => handshake);
        await tls.DisposeAsync();
        return [.. data.Take(5 + ((data[3] << 8) | data[4]))];
    }
}
