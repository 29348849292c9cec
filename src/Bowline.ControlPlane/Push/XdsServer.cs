using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text.Json;
using Bowline.Api.Management;
using Bowline.Api.Registry;
using Bowline.Api.Xds;
using Bowline.ControlPlane.Config;
using Bowline.ControlPlane.Generation;
using Bowline.ControlPlane.Registry;
using Bowline.ControlPlane.Telemetry;

namespace Bowline.ControlPlane.Push;

/// <summary>
/// The push side: accepts proxy streams at <see cref="XdsProtocol.Path"/>, and on every (debounced) change recomputes
/// the connected proxies' configs, sending only to those whose version changed. The mesh and the parts sidecars share
/// are computed once per (config, registry) generation (<see cref="MeshView"/>); per proxy only its own small parts
/// and a version from part hashes are composed, and the session sends a delta from what the proxy last ACKed.
/// </summary>
internal sealed class XdsServer(ConfigStore store, IWorkloadRegistry registry, ILogger<XdsServer> log, ControlPlaneMetrics? metrics = null) : IDisposable
{
    // Streams live as long as their proxy: without ending them, a graceful shutdown would wait for every proxy.
    private readonly CancellationTokenSource _stopping = new();
    private const int MaxRequestBytes = 1 << 20;
    private readonly ConcurrentDictionary<string, ProxySession> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ProxyState> _lastKnown = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _loggedNotes = new(StringComparer.Ordinal);
    private int _rounds;
    // The mesh of the latest (config, registry) generations, built once and shared by every connect and push round
    // (a Lazy, so 2000 proxies connecting at once wait for one build instead of each running their own).
    private ViewSlot? _view;

    /// <summary>Push rounds completed (tests wait on it).</summary>
    public int Rounds => Volatile.Read(ref _rounds);

    public ProxySession? Session(string id) => _sessions.GetValueOrDefault(id);

    /// <summary>Proxies with a stream open now (pilot_xds).</summary>
    public int Connected => _sessions.Count;

    public async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("expected a WebSocket upgrade");
            return;
        }

        using var ws = await context.WebSockets.AcceptWebSocketAsync();
        using var stream = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        var ct = stream.Token;
        // One receive buffer for the stream's life (a pending read holds one anyway), not one per message.
        var receive = new byte[8192];
        DiscoveryRequest? first;
        try
        {
            var bytes = await WebSocketMessages.ReadAsync(ws, receive, MaxRequestBytes, ct);
            if (bytes is null)
            {
                return;
            }

            first = XdsJson.ReadRequest(bytes);
        }
        catch (JsonException e)
        {
            await CloseAsync(ws, WebSocketCloseStatus.InvalidPayloadData, $"malformed DiscoveryRequest: {e.Message}");
            return;
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or InvalidDataException)
        {
            return;
        }

        if (first?.Node is not { } node)
        {
            await CloseAsync(ws, WebSocketCloseStatus.InvalidPayloadData, "first DiscoveryRequest has no node");
            return;
        }

        var reg = registry.Current;
        if (reg.Find(node.Pod, node.Namespace) is not { } pod)
        {
            var reason = $"unknown proxy {node.Pod}.{node.Namespace}: no such pod in the registry";
            log.ConnectRefused(node.Id, reason);
            await CloseAsync(ws, WebSocketCloseStatus.PolicyViolation, reason);
            return;
        }

        var id = RegistrySnapshot.IdOf(pod);
        var session = new ProxySession(id, ws,
            new ProxyState { Connected = true, Acked = first.VersionInfo, Latest = first.VersionInfo }, log, metrics);
        if (_sessions.TryGetValue(id, out var old))
        {
            old.Socket.Abort(); // the proxy reconnected; its previous stream is dead
        }

        _sessions[id] = session;
        log.Connected(id, first.VersionInfo ?? "nothing");
        var cfg = store.Current;
        reg = registry.Current;
        if (reg.FindById(id) is { } current)
        {
            var view = ViewOf(cfg, reg);
            session.Offer(Compose(view, current, id), view.Stamp);
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var send = SendAsync(session, cts.Token);
        var why = "";
        var malformed = false;
        try
        {
            while (true)
            {
                var bytes = await WebSocketMessages.ReadAsync(ws, receive, MaxRequestBytes, cts.Token);
                if (bytes is null)
                {
                    break;
                }

                if (XdsJson.ReadRequest(bytes) is { } request)
                {
                    session.OnRequest(request);
                }
            }
        }
        catch (JsonException e)
        {
            why = $": malformed request: {e.Message}";
            malformed = true;
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or InvalidDataException)
        {
            why = e is OperationCanceledException ? "" : $": {e.Message}";
        }
        finally
        {
            await cts.CancelAsync();
            await send;
            session.MarkDisconnected();
            _lastKnown[id] = session.State;
            _sessions.TryRemove(new KeyValuePair<string, ProxySession>(id, session));
            log.Disconnected(id, why);
        }

        // Closed only now that the send loop is done: a WebSocket allows one sender at a time.
        if (ws.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            await CloseAsync(ws, malformed ? WebSocketCloseStatus.InvalidPayloadData : WebSocketCloseStatus.NormalClosure,
                malformed ? "malformed DiscoveryRequest" : "bye");
        }
    }

    private static async Task SendAsync(ProxySession session, CancellationToken ct)
    {
        try
        {
            await session.SendLoopAsync(ct);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            if (!ct.IsCancellationRequested)
            {
                session.Socket.Abort(); // a failed send ends the stream; the receive loop sees it and cleans up
            }
        }
    }

    /// <summary>Ends every stream (shutdown): each proxy keeps its config and reconnects to the next control plane.</summary>
    public void Stop() => _stopping.Cancel();

    public void Dispose() => _stopping.Dispose();

    /// <summary>One push round: recompute every connected proxy from the current snapshots; send the changed ones.</summary>
    public Task PushAllAsync(CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var cfg = store.Current;
        var reg = registry.Current;
        var view = ViewOf(cfg, reg);
        var changedAt = metrics?.BeginRound() ?? 0;
        int connected = 0, pushed = 0;
        foreach (var session in _sessions.Values)
        {
            ct.ThrowIfCancellationRequested();
            connected++;
            if (reg.FindById(session.Id) is not { } pod)
            {
                continue; // gone from the registry: keep its stream (and last config) until it disconnects
            }

            if (session.Offer(Compose(view, pod, session.Id), view.Stamp, changedAt))
            {
                pushed++;
            }
        }

        Interlocked.Increment(ref _rounds);
        log.PushRound(pushed, connected, cfg.Generation, reg.Generation, watch.ElapsedMilliseconds);
        return Task.CompletedTask;
    }

    /// <summary>The config a registered proxy gets now (null for an unknown id).</summary>
    public GeneratedConfig? ConfigFor(string id)
    {
        var reg = registry.Current;
        return reg.FindById(id) is { } pod ? ProxyConfigGenerator.Generate(store.Current, reg, pod) : null;
    }

    /// <summary>One status per registered pod, sorted by id.</summary>
    public ProxyStatus[] Statuses()
    {
        var reg = registry.Current;
        var cfg = store.Current;
        MeshView? view = null;
        var result = new List<ProxyStatus>();
        foreach (var pod in reg.Pods.OrderBy(RegistrySnapshot.IdOf, StringComparer.Ordinal))
        {
            var id = RegistrySnapshot.IdOf(pod);
            var state = _sessions.TryGetValue(id, out var s) ? s.State : _lastKnown.GetValueOrDefault(id) ?? new ProxyState();
            var latest = state.Latest;
            var stateName = state.StateName;
            // A change still in the debounce window has not been offered to anyone yet: compare with what the current
            // config would give, so a proxy is never reported SYNCED to a config it is about to be replaced from.
            if (!state.Connected || state.Stamp != (cfg.Generation, reg.Generation))
            {
                latest = (view ??= ViewOf(cfg, reg)).Compose(pod).Version;
                if (state.Connected && latest != state.Latest)
                {
                    stateName = "STALE";
                }
            }

            result.Add(new ProxyStatus
            {
                Name = id,
                Workload = pod.Workload,
                Namespace = pod.Namespace,
                Version = state.Acked,
                State = stateName,
                Admin = $"{pod.Address}:{pod.AdminPort}",
                LatestVersion = latest,
                Error = stateName == "NACKED" ? state.NackReason : null,
            });
        }

        return [.. result];
    }

    private MeshView ViewOf(ConfigSnapshot cfg, RegistrySnapshot reg)
    {
        while (true)
        {
            var seen = Volatile.Read(ref _view);
            if (seen is { } v && v.Config == cfg.Generation && v.Registry == reg.Generation)
            {
                return v.View.Value;
            }

            if (seen is { } older && (older.Config > cfg.Generation || older.Registry > reg.Generation))
            {
                return new MeshView(MeshModel.Build(cfg, reg), (cfg.Generation, reg.Generation)); // a late caller: do not cache
            }

            var fresh = new ViewSlot(cfg.Generation, reg.Generation,
                new Lazy<MeshView>(() => new MeshView(MeshModel.Build(cfg, reg), (cfg.Generation, reg.Generation))));
            if (Interlocked.CompareExchange(ref _view, fresh, seen) == seen)
            {
                return fresh.View.Value;
            }
        }
    }

    private ComposedConfig Compose(MeshView view, LocalPod pod, string id)
    {
        var generated = view.Compose(pod);
        foreach (var note in generated.Notes)
        {
            if (_loggedNotes.TryAdd($"{id}\n{note}", true))
            {
                log.GenerationNote(id, note);
            }
        }

        return generated;
    }

    private static async Task CloseAsync(WebSocket ws, WebSocketCloseStatus status, string reason)
    {
        // A close reason is limited to 123 UTF-8 bytes.
        if (System.Text.Encoding.UTF8.GetByteCount(reason) > 123)
        {
            reason = reason[..Math.Min(reason.Length, 120)] + "...";
            while (System.Text.Encoding.UTF8.GetByteCount(reason) > 123)
            {
                reason = reason[..^4] + "...";
            }
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await ws.CloseAsync(status, reason, timeout.Token);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
        }
    }

    private sealed record ViewSlot(long Config, long Registry, Lazy<MeshView> View);
}
