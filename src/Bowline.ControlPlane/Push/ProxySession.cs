using System.Net.WebSockets;
using System.Threading.Channels;
using Bowline.Api.Xds;
using Bowline.ControlPlane.Generation;

namespace Bowline.ControlPlane.Push;

/// <summary>
/// One proxy's stream. A send loop delivers only the latest config (a slow proxy never holds up others or piles up
/// stale configs); the receive loop handles ACK/NACK by nonce. <see cref="State"/> is replaced, never mutated.
/// </summary>
internal sealed class ProxySession(string id, WebSocket socket, ProxyState initial, ILogger log)
{
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Lock _stateLock = new();
    private ProxyState _state = initial;
    private ComposedConfig? _pending;

    public string Id => id;
    public WebSocket Socket => socket;
    public ProxyState State => Volatile.Read(ref _state);

    /// <summary>Number of responses sent (tests and logs).</summary>
    public int Sent { get; private set; }

    /// <summary>
    /// Offers a freshly computed config; queues it for sending when its version differs from the latest one this proxy
    /// got (or runs). Returns whether it was queued.
    /// </summary>
    public bool Offer(ComposedConfig config, (long Config, long Registry) stamp)
    {
        lock (_stateLock)
        {
            var s = _state;
            if (stamp.Config < s.Stamp.Config || stamp.Registry < s.Stamp.Registry)
            {
                return false; // computed from older snapshots than what was already offered
            }

            var changed = config.Version != s.Latest;
            Volatile.Write(ref _state, s with { Latest = config.Version, Stamp = stamp });
            if (!changed)
            {
                return false;
            }

            Volatile.Write(ref _pending, config);
        }

        _wake.Writer.TryWrite(true);
        return true;
    }

    public async Task SendLoopAsync(CancellationToken ct)
    {
        while (await _wake.Reader.WaitToReadAsync(ct))
        {
            _wake.Reader.TryRead(out _);
            var config = Interlocked.Exchange(ref _pending, null);
            if (config is null)
            {
                continue;
            }

            var nonce = Nonces.Next();
            // Recorded before sending: a fast ACK must find its nonce.
            Update(s => s with { SentVersion = config.Version, SentNonce = nonce });
            await ResponseWriter.SendFullAsync(socket, config.Version, nonce, config, ct);
            Sent++;
        }
    }

    /// <summary>Handles one request after the first: an ACK or NACK of the response its nonce names.</summary>
    public void OnRequest(DiscoveryRequest request)
    {
        var s = State;
        if (request.ResponseNonce is null || request.ResponseNonce != s.SentNonce)
        {
            return; // stale (answers a response superseded since) or unsolicited
        }

        if (request.ErrorDetail is null)
        {
            Update(x => x.SentNonce == request.ResponseNonce
                ? x with { Acked = x.SentVersion, NackReason = null, NackVersion = null }
                : x);
        }
        else
        {
            Update(x => x.SentNonce == request.ResponseNonce
                ? x with { NackReason = request.ErrorDetail, NackVersion = x.SentVersion }
                : x);
            log.Nack(id, s.SentVersion ?? "?", request.ErrorDetail);
        }
    }

    public void MarkDisconnected() => Update(s => s with { Connected = false });

    private void Update(Func<ProxyState, ProxyState> change)
    {
        lock (_stateLock)
        {
            Volatile.Write(ref _state, change(_state));
        }
    }
}
