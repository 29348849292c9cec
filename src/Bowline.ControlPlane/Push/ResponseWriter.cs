using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Bowline.ControlPlane.Generation;

namespace Bowline.ControlPlane.Push;

/// <summary>
/// Writes a <c>DiscoveryResponse</c> straight from a config's pre-serialized parts, as one WebSocket message sent in
/// frames of <see cref="FrameBytes"/> from one pooled buffer: the shared parts are serialized once for all proxies, and
/// no proxy's whole response is ever held in memory (2000 concurrent sends × 600 KB would be the control plane's RSS).
/// The layout is what <c>XdsJson</c> writes for a <c>DiscoveryResponse</c>: version, nonce, config.
/// </summary>
internal sealed class ResponseWriter : IDisposable
{
    public const int FrameBytes = 16 * 1024;

    private static readonly byte[] ConfigListeners = "\"config\":{\"listeners\":"u8.ToArray();
    private static readonly byte[] RouteTables = ",\"routeTables\":"u8.ToArray();
    private static readonly byte[] Clusters = ",\"clusters\":"u8.ToArray();
    private static readonly byte[] Close = "}}"u8.ToArray();
    private static readonly byte[] Open = "["u8.ToArray();
    private static readonly byte[] Comma = ","u8.ToArray();
    private static readonly byte[] CloseArray = "]"u8.ToArray();

    private readonly WebSocket _socket;
    private readonly byte[] _buffer = ArrayPool<byte>.Shared.Rent(FrameBytes);
    private int _used;

    private ResponseWriter(WebSocket socket) => _socket = socket;

    public long Sent { get; private set; }

    public static async Task<long> SendFullAsync(WebSocket socket, string version, string nonce, ComposedConfig config, CancellationToken ct)
    {
        using var w = new ResponseWriter(socket);
        await w.HeadAsync(version, nonce, ct);
        await w.AppendAsync(ConfigListeners, ct);
        await w.ArrayAsync(config.Listeners, ct);
        await w.AppendAsync(RouteTables, ct);
        await w.ArrayAsync(config.RouteTables, ct);
        await w.AppendAsync(Clusters, ct);
        await w.ArrayAsync(config.Clusters, ct);
        await w.TelemetryAsync(config.Telemetry, ct);
        await w.AppendAsync(Close, ct);
        await w.EndAsync(ct);
        return w.Sent;
    }

    public static async Task<long> SendDeltaAsync(WebSocket socket, string version, string nonce, string baseVersion, DeltaParts delta, CancellationToken ct,
        Part? telemetry = null)
    {
        using var w = new ResponseWriter(socket);
        await w.HeadAsync(version, nonce, ct);
        await w.AppendAsync(Encoding.UTF8.GetBytes($"\"delta\":{{\"baseVersion\":\"{baseVersion}\""), ct);
        await w.PropertyAsync("listeners", delta.Listeners, ct);
        await w.PropertyAsync("routeTables", delta.RouteTables, ct);
        await w.PropertyAsync("clusters", delta.Clusters, ct);
        if (delta.VirtualHosts.Length > 0)
        {
            await w.AppendAsync(",\"virtualHosts\":["u8.ToArray(), ct);
            for (var i = 0; i < delta.VirtualHosts.Length; i++)
            {
                var (table, hosts) = delta.VirtualHosts[i];
                await w.AppendAsync(Encoding.UTF8.GetBytes($"{(i > 0 ? "," : "")}{{\"routeTable\":{JsonString(table)},\"virtualHosts\":"), ct);
                await w.ArrayAsync(hosts, ct);
                await w.AppendAsync("}"u8.ToArray(), ct);
            }

            await w.AppendAsync(CloseArray, ct);
        }

        await w.NamesAsync("removedListeners", delta.RemovedListeners, ct);
        await w.NamesAsync("removedRouteTables", delta.RemovedRouteTables, ct);
        await w.NamesAsync("removedClusters", delta.RemovedClusters, ct);
        await w.TelemetryAsync(telemetry, ct);
        await w.AppendAsync(Close, ct);
        await w.EndAsync(ct);
        return w.Sent;
    }

    private static string JsonString(string s) => JsonSerializer.Serialize(s, Bowline.Api.Xds.XdsJson.Default.String);

    private async Task PropertyAsync(string name, Part[] parts, CancellationToken ct)
    {
        if (parts.Length > 0)
        {
            await AppendAsync(Encoding.UTF8.GetBytes($",\"{name}\":"), ct);
            await ArrayAsync(parts, ct);
        }
    }

    /// <summary>The telemetry section, whole, when the config has one (full configs and deltas alike).</summary>
    private async Task TelemetryAsync(Part? telemetry, CancellationToken ct)
    {
        if (telemetry is not null)
        {
            await AppendAsync(",\"telemetry\":"u8.ToArray(), ct);
            await AppendAsync(telemetry.Json, ct);
        }
    }

    private async Task NamesAsync(string name, string[] names, CancellationToken ct)
    {
        if (names.Length > 0)
        {
            await AppendAsync(Encoding.UTF8.GetBytes($",\"{name}\":[{string.Join(",", names.Select(JsonString))}]"), ct);
        }
    }

    private async Task HeadAsync(string version, string nonce, CancellationToken ct)
    {
        // Versions are hex and nonces hex-dash-digits: nothing to escape.
        await AppendAsync(Encoding.UTF8.GetBytes($"{{\"version\":\"{version}\",\"nonce\":\"{nonce}\","), ct);
    }

    private async Task ArrayAsync(Part[] parts, CancellationToken ct)
    {
        await AppendAsync(Open, ct);
        for (var i = 0; i < parts.Length; i++)
        {
            if (i > 0)
            {
                await AppendAsync(Comma, ct);
            }

            await AppendAsync(parts[i].Json, ct);
        }

        await AppendAsync(CloseArray, ct);
    }

    private async Task AppendAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        while (!data.IsEmpty)
        {
            var n = Math.Min(FrameBytes - _used, data.Length);
            data.Span[..n].CopyTo(_buffer.AsSpan(_used));
            _used += n;
            data = data[n..];
            if (_used == FrameBytes)
            {
                await FlushAsync(endOfMessage: false, ct);
            }
        }
    }

    private Task EndAsync(CancellationToken ct) => FlushAsync(endOfMessage: true, ct);

    private async Task FlushAsync(bool endOfMessage, CancellationToken ct)
    {
        await _socket.SendAsync(_buffer.AsMemory(0, _used), WebSocketMessageType.Text, endOfMessage, ct);
        Sent += _used;
        _used = 0;
    }

    public void Dispose() => ArrayPool<byte>.Shared.Return(_buffer);
}
