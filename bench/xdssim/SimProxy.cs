using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using Bowline.Api.Xds;

namespace Bowline.Bench.XdsSim;

/// <summary>
/// A simulated proxy: one WebSocket speaking the real push protocol, ACKing every response at once. It never parses
/// the config; it reads version and nonce from the head of the message (serialized first) and scans the body for the
/// markers the benchmark's changes carry ("bench-&lt;kind&gt;-&lt;n&gt;"), recording when it ACKed which marker.
/// </summary>
internal sealed class SimProxy(Node node, Uri stream) : IDisposable
{
    private const int Tail = 64;
    private readonly byte[] _buffer = new byte[32 * 1024 + Tail];
    private ClientWebSocket? _socket;

    public Node Node { get; } = node;

    /// <summary>(ACK timestamp, marker kind → number) per received response, in order.</summary>
    public List<(long AckTicks, Dictionary<string, int> Markers)> Acks { get; } = [];

    public long ReceivedBytes { get; private set; }

    public TaskCompletionSource FirstAck { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task ConnectAsync(CancellationToken ct)
    {
        _socket = new ClientWebSocket();
        _socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(15);
        await _socket.ConnectAsync(stream, ct);
        await SendAsync(new DiscoveryRequest { Node = Node }, ct);
    }

    private string? _running;

    /// <summary>Deltas NACKed because they named another base than the version this proxy ran.</summary>
    public int DeltaNacks { get; private set; }

    public async Task RunAsync(CancellationToken ct)
    {
        var socket = _socket!;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                string? version = null, nonce = null, baseVersion = null;
                var markers = new Dictionary<string, int>(StringComparer.Ordinal);
                var filled = 0;
                var first = true;
                while (true)
                {
                    // Keep the last bytes of the previous chunk so a marker split across chunks is still found.
                    if (filled > Tail)
                    {
                        Buffer.BlockCopy(_buffer, filled - Tail, _buffer, 0, Tail);
                        filled = Tail;
                    }

                    var result = await socket.ReceiveAsync(_buffer.AsMemory(filled, _buffer.Length - filled), ct);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }

                    ReceivedBytes += result.Count;
                    var span = _buffer.AsSpan(0, filled + result.Count);
                    if (first)
                    {
                        version = StringField(span, "\"version\":\""u8);
                        nonce = StringField(span, "\"nonce\":\""u8);
                        baseVersion = StringField(span, "\"baseVersion\":\""u8);
                        first = false;
                    }

                    ScanMarkers(span, markers);
                    filled += result.Count;
                    if (result.EndOfMessage)
                    {
                        break;
                    }
                }

                if (version is null || nonce is null)
                {
                    throw new InvalidDataException($"{Node.Id}: response without version/nonce at its head");
                }

                // A delta applies only onto the version it names: as a real proxy, NACK one from another base (the
                // control plane then sends the config whole) and keep running what we ran.
                if (baseVersion is not null && baseVersion != _running)
                {
                    DeltaNacks++;
                    await SendAsync(new DiscoveryRequest
                    {
                        Node = Node, VersionInfo = _running, ResponseNonce = nonce, ErrorDetail = $"delta from {baseVersion}, running {_running}",
                    }, ct);
                    continue;
                }

                _running = version;
                var ack = Stopwatch.GetTimestamp();
                await SendAsync(new DiscoveryRequest { Node = Node, VersionInfo = version, ResponseNonce = nonce }, ct);
                lock (Acks)
                {
                    Acks.Add((ack, markers));
                }

                FirstAck.TrySetResult();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is WebSocketException or IOException)
        {
            FirstAck.TrySetException(e);
            Console.Error.WriteLine($"{Node.Id}: stream failed: {e.Message}");
        }
    }

    private static string? StringField(ReadOnlySpan<byte> span, ReadOnlySpan<byte> prefix)
    {
        var i = span.IndexOf(prefix);
        if (i < 0)
        {
            return null;
        }

        var rest = span[(i + prefix.Length)..];
        var end = rest.IndexOf((byte)'"');
        return end < 0 ? null : Encoding.UTF8.GetString(rest[..end]);
    }

    private static void ScanMarkers(ReadOnlySpan<byte> span, Dictionary<string, int> markers)
    {
        var prefix = "bench-"u8;
        while (true)
        {
            var i = span.IndexOf(prefix);
            if (i < 0)
            {
                return;
            }

            span = span[(i + prefix.Length)..];
            var dash = span.IndexOf((byte)'-');
            if (dash <= 0 || dash > 16)
            {
                continue;
            }

            var digits = 0;
            var n = 0;
            while (dash + 1 + digits < span.Length && char.IsAsciiDigit((char)span[dash + 1 + digits]))
            {
                n = (n * 10) + (span[dash + 1 + digits] - '0');
                digits++;
            }

            if (digits == 0 || dash + 1 + digits == span.Length)
            {
                // Cut off at the chunk's end: the next chunk (which repeats the tail) sees it whole.
                continue;
            }

            var kind = Encoding.ASCII.GetString(span[..dash]);
            if (!markers.TryGetValue(kind, out var old) || n > old)
            {
                markers[kind] = n;
            }
        }
    }

    public void Dispose() => _socket?.Dispose();

    private Task SendAsync(DiscoveryRequest request, CancellationToken ct) =>
        _socket!.SendAsync(XdsJson.Serialize(request), WebSocketMessageType.Text, endOfMessage: true, ct);
}
