using System.Net.WebSockets;
using Bowline.Api.Xds;

namespace Bowline.ControlPlane.Tests.Push;

/// <summary>A proxy stand-in speaking the push protocol; records every response and ACKs it unless told not to.</summary>
internal sealed class XdsTestClient : IAsyncDisposable
{
    private readonly ClientWebSocket _ws = new();
    private readonly Node _node;
    private readonly List<DiscoveryResponse> _responses = [];
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private ProxyConfig? _acked;

    private XdsTestClient(string pod, string ns) => _node = new Node { Id = $"{pod}.{ns}", Pod = pod, Namespace = ns };

    public bool AutoAck { get; init; } = true;

    public TaskCompletionSource<(WebSocketCloseStatus? Status, string? Description)> Closed { get; } =
        new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<DiscoveryResponse> Responses
    {
        get
        {
            lock (_responses)
            {
                return [.. _responses];
            }
        }
    }

    public static async Task<XdsTestClient> ConnectAsync(Uri baseAddress, string pod, string ns = "default",
        string? version = null, bool autoAck = true)
    {
        var client = new XdsTestClient(pod, ns) { AutoAck = autoAck };
        var uri = new UriBuilder(baseAddress) { Scheme = "ws", Path = XdsProtocol.Path }.Uri;
        using var timeout = new CancellationTokenSource(Wait.Deadline);
        await client._ws.ConnectAsync(uri, timeout.Token);
        await client.SendAsync(new DiscoveryRequest { Node = client._node, VersionInfo = version });
        client._loop = Task.Run(client.ReceiveLoopAsync);
        return client;
    }

    /// <summary>Waits for the response number <paramref name="count"/> (1-based) and returns it.</summary>
    public async Task<DiscoveryResponse> WaitForResponseAsync(int count = 1)
    {
        await Wait.UntilAsync(() => Responses.Count >= count, $"{_node.Id}: response #{count}");
        return Responses[count - 1];
    }

    public Task AckAsync(DiscoveryResponse r)
    {
        Volatile.Write(ref _acked, r.Config);
        return SendAsync(new DiscoveryRequest { Node = _node, VersionInfo = r.Version, ResponseNonce = r.Nonce });
    }

    /// <summary>Responses that were deltas (their Config is the resolved whole config).</summary>
    public int Deltas
    {
        get
        {
            lock (_responses)
            {
                return _responses.Count(r => r.Delta is not null);
            }
        }
    }

    public Task NackAsync(DiscoveryResponse r, string? runningVersion, string reason) =>
        SendAsync(new DiscoveryRequest { Node = _node, VersionInfo = runningVersion, ResponseNonce = r.Nonce, ErrorDetail = reason });

    private async Task SendAsync(DiscoveryRequest request)
    {
        await _sendLock.WaitAsync();
        try
        {
            await _ws.SendAsync(XdsJson.Serialize(request), WebSocketMessageType.Text, true, _stop.Token);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[1 << 16];
        try
        {
            while (true)
            {
                using var ms = new MemoryStream();
                WebSocketReceiveResult r;
                do
                {
                    r = await _ws.ReceiveAsync(buffer, _stop.Token);
                    if (r.MessageType == WebSocketMessageType.Close)
                    {
                        Closed.TrySetResult((r.CloseStatus, r.CloseStatusDescription));
                        return;
                    }

                    ms.Write(buffer, 0, r.Count);
                }
                while (!r.EndOfMessage);

                var response = XdsJson.ReadResponse(ms.ToArray())!;
                if (response.Delta is { } delta)
                {
                    // Recorded as the whole config it makes of the last ACKed one, as a proxy would apply it.
                    var (config, error) = delta.ApplyTo(Volatile.Read(ref _acked) ?? throw new InvalidOperationException("delta before any ACK"));
                    Assert.Null(error);
                    Assert.Equal(response.Version, ConfigVersion.Of(config!));
                    response = response with { Config = config };
                }

                lock (_responses)
                {
                    _responses.Add(response);
                }

                if (AutoAck)
                {
                    await AckAsync(response);
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            Closed.TrySetResult((null, e.Message));
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_ws.State == WebSocketState.Open)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
                await Closed.Task.WaitAsync(TimeSpan.FromSeconds(2));
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or TimeoutException)
            {
            }
        }

        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }

        _ws.Dispose();
        _stop.Dispose();
        _sendLock.Dispose();
    }
}
