using System.Net.WebSockets;
using System.Threading.Channels;
using Bowline.Api.Xds;
using Bowline.ControlPlane.Generation;
using Bowline.ControlPlane.Telemetry;

namespace Bowline.ControlPlane.Push;

/// <summary>
/// One proxy's stream. A send loop delivers only the latest config (a slow proxy never holds up others or piles up
/// stale configs); the receive loop handles ACK/NACK by nonce. <see cref="State"/> is replaced, never mutated.
/// </summary>
internal sealed class ProxySession(string id, WebSocket socket, ProxyState initial, ILogger log, ControlPlaneMetrics? metrics = null)
{
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Lock _stateLock = new();
    private ProxyState _state = initial;
    private ComposedConfig? _pending;
    // When the change behind the pending config was made (a metrics timestamp; 0 for none): pilot_proxy_convergence_time.
    private long _pendingChangedAt;
    // The config last sent (awaiting its answer) and the one the proxy ACKed on this stream: a delta is computed
    // against the latter, and a NACKed delta is re-sent whole (the proxy may not hold what we think it holds).
    private ComposedConfig? _sent;
    private bool _sentDelta;
    // The proxy rejected _sent (a real NACK): it still runs _acked.
    private bool _sentRejected;
    private ComposedConfig? _acked;
    private bool _forceFull;

    public string Id => id;
    public WebSocket Socket => socket;
    public ProxyState State => Volatile.Read(ref _state);

    /// <summary>Number of responses sent (tests and logs).</summary>
    public int Sent { get; private set; }

    /// <summary>
    /// Offers a freshly computed config; queues it for sending when its version differs from the latest one this proxy
    /// got (or runs). Returns whether it was queued.
    /// </summary>
    /// <param name="changedAt">When the change this config carries was made (<see cref="ControlPlaneMetrics.BeginRound"/>), 0 if unknown.</param>
    public bool Offer(ComposedConfig config, (long Config, long Registry) stamp, long changedAt = 0)
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

            // The oldest change still unsent: a config superseded before it went out still waited since then.
            if (Volatile.Read(ref _pending) is null || Volatile.Read(ref _pendingChangedAt) == 0)
            {
                Volatile.Write(ref _pendingChangedAt, changedAt);
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
            var changedAt = Interlocked.Exchange(ref _pendingChangedAt, 0);
            if (config is null)
            {
                continue;
            }

            var nonce = Nonces.Next();
            DeltaParts? delta = null;
            ComposedConfig? baseConfig;
            lock (_stateLock)
            {
                // The proxy applies responses in order, so one still unanswered is what it will run when this one
                // arrives (should it reject that one, it NACKs this delta for another base and gets the config whole).
                // Diffing from the last ACKed config instead made, under churn, every push a delta from a base the
                // proxy had already left: NACKed, then sent whole.
                baseConfig = _sentRejected ? _acked : _sent;
                if (baseConfig is not null && !_forceFull)
                {
                    delta = DeltaParts.Diff(baseConfig, config);
                }

                _forceFull = false;
                _sentRejected = false;
                _sent = config;
                _sentDelta = delta is not null;
                // Recorded before sending: a fast ACK must find its nonce.
                Volatile.Write(ref _state, _state with { SentVersion = config.Version, SentNonce = nonce });
            }

            if (delta is not null)
            {
                await ResponseWriter.SendDeltaAsync(socket, config.Version, nonce, baseConfig!.Version, delta, ct, config.Telemetry);
            }
            else
            {
                await ResponseWriter.SendFullAsync(socket, config.Version, nonce, config, ct);
            }

            Sent++;
            metrics?.Pushed(delta is null ? ["lds", "rds", "cds"] : PushedTypes(delta));
            metrics?.Converged(changedAt);
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
            lock (_stateLock)
            {
                if (_state.SentNonce == request.ResponseNonce)
                {
                    _acked = _sent;
                    Volatile.Write(ref _state, _state with { Acked = _state.SentVersion, NackReason = null, NackVersion = null });
                }
            }
        }
        else if (ResendWholeAfterDeltaNack(request))
        {
            log.DeltaNack(id, s.SentVersion ?? "?", request.ErrorDetail);
        }
        else
        {
            lock (_stateLock)
            {
                _sentRejected |= _state.SentNonce == request.ResponseNonce;
            }

            Update(x => x.SentNonce == request.ResponseNonce
                ? x with { NackReason = request.ErrorDetail, NackVersion = x.SentVersion }
                : x);
            log.Nack(id, s.SentVersion ?? "?", request.ErrorDetail);
            metrics?.Rejected();
        }
    }

    /// <summary>
    /// A NACKed delta says the proxy could not rebuild the config from it, not that the config is bad: queue the same
    /// config whole (unless a newer one is already queued), and keep the proxy's state as it was.
    /// </summary>
    private bool ResendWholeAfterDeltaNack(DiscoveryRequest request)
    {
        lock (_stateLock)
        {
            if (!_sentDelta || _state.SentNonce != request.ResponseNonce || _sent is null)
            {
                return false;
            }

            _forceFull = true;
            _acked = null;
            Interlocked.CompareExchange(ref _pending, _sent, null);
        }

        _wake.Writer.TryWrite(true);
        return true;
    }

    /// <summary>The xDS types a delta carries, as istiod counts pushes: listeners lds, route tables and hosts rds, clusters cds.</summary>
    private static IEnumerable<string> PushedTypes(DeltaParts delta)
    {
        if (delta.Listeners.Length + delta.RemovedListeners.Length > 0)
        {
            yield return "lds";
        }

        if (delta.RouteTables.Length + delta.RemovedRouteTables.Length + delta.VirtualHosts.Length > 0)
        {
            yield return "rds";
        }

        if (delta.Clusters.Length + delta.RemovedClusters.Length > 0)
        {
            yield return "cds";
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
