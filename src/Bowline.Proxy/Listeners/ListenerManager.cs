using System.Collections.Frozen;
using System.Net;
using Bowline.Api.Xds;
using Bowline.Proxy.Config;
using Bowline.Proxy.Forwarding;
using Bowline.Proxy.Listeners.Tcp;
using Bowline.Proxy.Listeners.Tls;
using Bowline.Proxy.LoadBalancing;
using Bowline.Proxy.Pipeline;
using Bowline.Proxy.RateLimit;
using Bowline.Proxy.Telemetry.Metrics;
using Microsoft.Extensions.Logging;

namespace Bowline.Proxy.Listeners;

/// <summary>
/// Applies configs: validate, bind new listeners, publish the snapshot in one swap, retire listeners that are gone.
/// A config whose listeners cannot all be bound is rejected whole and leaves nothing behind.
/// </summary>
internal sealed partial class ListenerManager : ISnapshotSource, IConfigApplier, IAsyncDisposable
{
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    private readonly ProxyPipeline _pipeline;
    private readonly IRequestObserver? _observer;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _applyLock = new(1, 1);
    private readonly Dictionary<int, IListenerServer> _servers = [];
    private readonly TcpProxy _tcpProxy;
    private readonly List<Task> _draining = [];
    private readonly TimeProvider _time;
    private readonly ListenerLimits _limits;
    private ProxySnapshot? _current;
    private IReadOnlyList<CompiledCluster> _clusters = [];
    private int _nextServerId;

    /// <param name="time">Clock for injected fault delays and outlier sweeps (the system clock unless a test fakes it).</param>
    /// <param name="limits">What listeners tolerate from clients; Envoy-like defaults unless a test tightens them.</param>
    /// <param name="tcpObserver">Also told about every proxied TCP / TLS passthrough connection (besides the metrics); null: nobody else.</param>
    /// <param name="metrics">Where connection and config counters go (the request metrics come through the observer); a private one when null.</param>
    public ListenerManager(Forwarder forwarder, IRandomSource random, IRequestObserver? observer, ILoggerFactory loggerFactory, TimeProvider? time = null,
        ListenerLimits? limits = null, ITcpConnectionObserver? tcpObserver = null, ProxyMetrics? metrics = null)
    {
        _time = time ?? TimeProvider.System;
        _limits = limits ?? ListenerLimits.Default;
        Metrics = metrics ?? new ProxyMetrics(_time);
        Metrics.Clusters = Stats;
        RateLimits = new RateLimitBuckets(_time);
        _tcpProxy = new TcpProxy(this, random, _time, TcpObservers.Of(new TcpMetricsObserver(Metrics), tcpObserver));
        _pipeline = new ProxyPipeline(this, forwarder, random, _time, Egress, observer);
        _observer = observer;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<ListenerManager>();
    }

    public ProxySnapshot? Current => Volatile.Read(ref _current);

    /// <summary>Requests to hosts outside the registry: passed through or refused (outboundTrafficPolicy).</summary>
    public EgressStats Egress { get; } = new();

    /// <summary>Per-cluster state (counters, endpoints, connection pools), kept across configs.</summary>
    public ClusterStatsRegistry Stats { get; } = new();

    /// <summary>Local rate limit token buckets, kept across configs that leave a limit unchanged.</summary>
    public RateLimitBuckets RateLimits { get; }

    public string? CurrentVersion => Current?.Version;

    public ProxyMetrics Metrics { get; }

    public async Task<string?> ApplyAsync(string version, ProxyConfig config, CancellationToken cancellationToken)
    {
        CompiledConfig compiled;
        try
        {
            compiled = ConfigCompiler.Compile(config, Stats, _time, RateLimits);
        }
        catch (ConfigException e)
        {
            Metrics.ConfigRejected();
            return e.Message;
        }

        await _applyLock.WaitAsync(cancellationToken);
        try
        {
            var error = await ApplyLockedAsync(version, compiled, cancellationToken);
            if (error is null)
            {
                Metrics.ConfigApplied(version);
            }
            else
            {
                Metrics.ConfigRejected();
            }

            return error;
        }
        finally
        {
            _applyLock.Release();
        }
    }

    private async Task<string?> ApplyLockedAsync(string version, CompiledConfig compiled, CancellationToken cancellationToken)
    {
        var assignment = AssignServers(compiled.Listeners);
        await StopReplacedAsync(compiled.Listeners, assignment);
        var started = new List<IListenerServer>();
        foreach (var listener in compiled.Listeners)
        {
            if (assignment.ContainsKey(listener))
            {
                continue;
            }

            var id = ++_nextServerId;
            var server = NewServer(id, listener);
            try
            {
                await server.StartAsync(cancellationToken);
            }
            catch (IOException e)
            {
                await server.DisposeAsync();
                foreach (var s in started)
                {
                    await s.DisposeAsync();
                }

                return $"listener {listener.Name}: cannot bind {listener.Endpoint}: {e.Message}";
            }

            started.Add(server);
            assignment[listener] = server;
        }

        var byServer = new Dictionary<int, CompiledListener>();
        var bound = new Dictionary<string, IPEndPoint>(StringComparer.Ordinal);
        foreach (var (listener, server) in assignment)
        {
            server.Name = listener.Name;
            byServer[server.Id] = listener;
            bound[listener.Name] = server.BoundEndpoint!;
        }

        Volatile.Write(ref _current, new ProxySnapshot(version, compiled.Source, byServer.ToFrozenDictionary(), bound.ToFrozenDictionary(StringComparer.Ordinal)));
        SwapOutlierDetectors(compiled.Clusters);
        RateLimits.Retain(compiled.RateLimits);

        foreach (var server in _servers.Values.Where(s => !byServer.ContainsKey(s.Id)).ToList())
        {
            _servers.Remove(server.Id);
            LogListenerRemoved(_logger, server.Name, server.BoundEndpoint);
            _draining.Add(RetireAsync(server));
        }

        foreach (var server in started)
        {
            _servers.Add(server.Id, server);
            LogListenerStarted(_logger, server.Name, server.BoundEndpoint);
        }

        _draining.RemoveAll(t => t.IsCompleted);
        return null;
    }

    /// <summary>
    /// A server's TLS settings in the config in use; before that config is published (the server was just started for
    /// it), the settings it was started with.
    /// </summary>
    private CompiledTls? TlsOf(int serverId, CompiledListener initial) =>
        Current is { } snapshot && snapshot.ListenersByServer.TryGetValue(serverId, out var listener) ? listener.Tls : initial.Tls;

    /// <summary>
    /// Which running servers carry over: the same name, address and port; failing that, a server on the same
    /// (fixed) address and port, so a renamed listener does not have to bind a port its predecessor still holds.
    /// </summary>
    private Dictionary<CompiledListener, IListenerServer> AssignServers(IReadOnlyList<CompiledListener> listeners)
    {
        var assignment = new Dictionary<CompiledListener, IListenerServer>(ReferenceEqualityComparer.Instance);
        var taken = new HashSet<int>();
        foreach (var listener in listeners)
        {
            foreach (var server in _servers.Values)
            {
                if (server.Name == listener.Name && server.Address.Equals(listener.Address) && server.ConfiguredPort == listener.Port
                    && server.IsTcp == IsTcp(listener) && taken.Add(server.Id))
                {
                    assignment[listener] = server;
                    break;
                }
            }
        }

        foreach (var listener in listeners)
        {
            if (listener.Port == 0 || assignment.ContainsKey(listener))
            {
                continue;
            }

            foreach (var server in _servers.Values)
            {
                if (!taken.Contains(server.Id) && server.Address.Equals(listener.Address) && server.ConfiguredPort == listener.Port
                    && server.IsTcp == IsTcp(listener))
                {
                    taken.Add(server.Id);
                    assignment[listener] = server;
                    break;
                }
            }
        }

        return assignment;
    }

    /// <summary>
    /// The config in use sweeps ejections; the previous one stops. Ejection state lives on the endpoints, which the
    /// new clusters share where unchanged, so an ejection outlives the push.
    /// </summary>
    private void SwapOutlierDetectors(IReadOnlyList<CompiledCluster> clusters)
    {
        foreach (var cluster in clusters)
        {
            cluster.Outlier?.Start();
        }

        foreach (var cluster in _clusters)
        {
            cluster.Outlier?.Dispose();
        }

        _clusters = clusters;
    }

    private static bool IsTcp(CompiledListener listener) => listener.Protocol != ListenerProtocol.Http;

    /// <summary>An accept loop for Tcp / Tls listeners, a Kestrel server for HTTP ones.</summary>
    private IListenerServer NewServer(int id, CompiledListener listener) => IsTcp(listener)
        ? new TcpListenerServer(id, listener, _tcpProxy, _logger)
        : new ListenerServer(id, listener, new ListenerApplication(id, _pipeline, _observer, _logger), _loggerFactory, _limits,
            Metrics.Connections(listener.Name), () => TlsOf(id, listener));

    /// <summary>
    /// A fixed port that switches between HTTP and TCP needs the other kind of server, and the old one holds the port:
    /// it is stopped first (its connections get no drain). If the new one then fails to bind, the port stays closed.
    /// </summary>
    private async Task StopReplacedAsync(IReadOnlyList<CompiledListener> listeners, Dictionary<CompiledListener, IListenerServer> assignment)
    {
        foreach (var listener in listeners)
        {
            if (listener.Port == 0 || assignment.ContainsKey(listener))
            {
                continue;
            }

            foreach (var server in _servers.Values.ToList())
            {
                if (server.Address.Equals(listener.Address) && server.ConfiguredPort == listener.Port && server.IsTcp != IsTcp(listener)
                    && !assignment.ContainsValue(server))
                {
                    _servers.Remove(server.Id);
                    LogListenerRemoved(_logger, server.Name, server.BoundEndpoint);
                    await RetireAsync(server, TimeSpan.Zero);
                }
            }
        }
    }

    private Task RetireAsync(IListenerServer server) => RetireAsync(server, DrainTimeout);

    private async Task RetireAsync(IListenerServer server, TimeSpan drain)
    {
        try
        {
            await server.StopAsync(drain);
            await server.DisposeAsync();
        }
        catch (Exception e)
        {
            LogRetireFailed(_logger, server.Name, e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _applyLock.WaitAsync();
        try
        {
            var stopping = _servers.Values.Select(RetireAsync).Concat(_draining).ToList();
            _servers.Clear();
            await Task.WhenAll(stopping);
            SwapOutlierDetectors([]);
            Stats.Dispose();
        }
        finally
        {
            _applyLock.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Listener {Name} listening on {Endpoint}")]
    private static partial void LogListenerStarted(ILogger logger, string name, IPEndPoint? endpoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "Listener {Name} on {Endpoint} removed; draining")]
    private static partial void LogListenerRemoved(ILogger logger, string name, IPEndPoint? endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopping listener {Name} failed")]
    private static partial void LogRetireFailed(ILogger logger, string name, Exception exception);
}
