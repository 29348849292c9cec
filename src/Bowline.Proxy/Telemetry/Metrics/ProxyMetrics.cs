using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Bowline.Proxy.Config;
using Bowline.Proxy.LoadBalancing;
using Bowline.Proxy.Pipeline;

namespace Bowline.Proxy.Telemetry.Metrics;

/// <summary>
/// Every metric one proxy exports at its admin endpoint's /stats/prometheus: Istio's standard HTTP, gRPC and TCP
/// metrics, and Envoy-style counters of the proxy's own health (connections, per-cluster overflows, retries,
/// ejections, config updates).
/// <para>
/// Why recording never slows a request (no benchmark needed to see it): a request for a series that exists already
/// does one <see cref="ConcurrentDictionary{TKey,TValue}.TryGetValue"/> keyed by a record struct of references to
/// interned label parts and small integers — lock-free, no hashing of strings, no boxing, no allocation — and then
/// 8–10 <see cref="Interlocked"/> adds on the calling core's own cache lines (<see cref="StripedCells"/>). Label
/// strings are built only when a series is created (first request with a new combination) or scraped. The label parts
/// themselves were resolved when the config was compiled (per listener, per cluster, per endpoint) or on a peer's first
/// request (<see cref="PeerMetadata.SourceCache"/>). The test MetricsAllocationTests holds this to zero bytes.
/// </para>
/// </summary>
internal sealed class ProxyMetrics
{
    private readonly ConcurrentDictionary<HttpSeriesKey, HttpSeries> _http = new();
    private readonly ConcurrentDictionary<TcpSeriesKey, TcpSeries> _tcp = new();
    private readonly ConcurrentDictionary<string, ConnectionCounters> _connections = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly long _startedAt;
    private long _configSuccesses;
    private long _configRejections;
    private AppliedConfig? _lastApplied;

    public ProxyMetrics(TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _startedAt = _time.GetTimestamp();
    }

    /// <summary>Per-cluster counters (retries, overflows, ejections) the load balancer keeps; set by the listener manager.</summary>
    public ClusterStatsRegistry? Clusters { get; set; }

    public PeerMetadata.SourceCache Peers { get; } = new();

    public HttpSeries Http(in HttpSeriesKey key) =>
        _http.TryGetValue(key, out var series) ? series : _http.GetOrAdd(key, static k => new HttpSeries(Render(k)));

    /// <summary>
    /// The TCP recording API (for TCP proxying): the series of one proxied connection, resolved once when its upstream
    /// is picked. <paramref name="endpoint"/>/<paramref name="cluster"/> name the destination on outbound and gateway
    /// listeners; on inbound listeners the destination is the listener's own workload and the source is unknown (there
    /// is no peer-metadata exchange over raw TCP yet). Then call <see cref="TcpSeries.Opened"/>,
    /// <see cref="TcpSeries.Received"/>, <see cref="TcpSeries.Sent"/> and <see cref="TcpSeries.Closed"/>.
    /// </summary>
    public TcpSeries Tcp(CompiledListener listener, CompiledCluster? cluster, UpstreamEndpoint? endpoint, ResponseFlags flags = ResponseFlags.None)
    {
        var t = listener.Telemetry;
        var key = t.Inbound
            ? new TcpSeriesKey(false, WorkloadLabels.UnknownSource, t.Local, flags)
            : new TcpSeriesKey(true, t.Local, endpoint?.MetricLabels ?? cluster?.MetricLabels ?? WorkloadLabels.UnknownDestination, flags);
        return _tcp.TryGetValue(key, out var series) ? series : _tcp.GetOrAdd(key, static k => new TcpSeries(Render(k)));
    }

    /// <summary>The connection counters of a listener (by name), kept across configs.</summary>
    public ConnectionCounters Connections(string listener) => _connections.GetOrAdd(listener, static n => new ConnectionCounters(n));

    public void ConfigApplied(string version)
    {
        Interlocked.Increment(ref _configSuccesses);
        Volatile.Write(ref _lastApplied, new AppliedConfig(version, _time.GetUtcNow()));
    }

    public void ConfigRejected() => Interlocked.Increment(ref _configRejections);

    private static string Render(HttpSeriesKey k)
    {
        var grpc = k.GrpcStatus switch
        {
            -1 => "",
            -2 => WorkloadLabels.Unknown,
            var code => code.ToString(CultureInfo.InvariantCulture),
        };
        return string.Create(CultureInfo.InvariantCulture,
            $"reporter=\"{Reporter(k.SourceReporter)}\",{k.Source.Text}{k.Destination.Text}request_protocol=\"{(k.Grpc ? "grpc" : "http")}\",response_code=\"{k.ResponseCode}\",grpc_response_status=\"{grpc}\",response_flags=\"{k.Flags.ToShortString()}\",connection_security_policy=\"{Security(k.SourceReporter)}\"");
    }

    private static string Render(TcpSeriesKey k) => string.Create(CultureInfo.InvariantCulture,
        $"reporter=\"{Reporter(k.SourceReporter)}\",{k.Source.Text}{k.Destination.Text}request_protocol=\"tcp\",response_flags=\"{k.Flags.ToShortString()}\",connection_security_policy=\"{Security(k.SourceReporter)}\"");

    private static string Reporter(bool source) => source ? "source" : "destination";

    // Istio: the client side does not know the server's policy ("unknown"); the server side reports what it enforced —
    // "none" while Bowline has no mTLS.
    private static string Security(bool source) => source ? "unknown" : "none";

    /// <summary>The whole exposition (text format 0.0.4), series sorted so that scrapes diff cleanly.</summary>
    public string Render()
    {
        var text = new StringBuilder(64 * 1024);
        var http = _http.Values.OrderBy(s => s.Labels, StringComparer.Ordinal).ToArray();
        PrometheusText.Header(text, "istio_requests_total", "counter", "Requests handled by this proxy (Istio standard metric).");
        foreach (var s in http)
        {
            s.WriteRequests(text);
        }

        PrometheusText.Header(text, "istio_request_duration_milliseconds", "histogram", "Request duration in milliseconds, from the first request byte to the last response byte.");
        foreach (var s in http)
        {
            s.WriteDuration(text);
        }

        PrometheusText.Header(text, "istio_request_bytes", "histogram", "HTTP request body sizes in bytes.");
        foreach (var s in http)
        {
            s.WriteRequestBytes(text);
        }

        PrometheusText.Header(text, "istio_response_bytes", "histogram", "HTTP response body sizes in bytes.");
        foreach (var s in http)
        {
            s.WriteResponseBytes(text);
        }

        // Istio reports message counts for gRPC only.
        var grpc = http.Where(s => s.Labels.Contains("request_protocol=\"grpc\"", StringComparison.Ordinal)).ToArray();
        PrometheusText.Header(text, "istio_request_messages_total", "counter", "gRPC messages sent by the client.");
        foreach (var s in grpc)
        {
            s.WriteRequestMessages(text);
        }

        PrometheusText.Header(text, "istio_response_messages_total", "counter", "gRPC messages sent by the server.");
        foreach (var s in grpc)
        {
            s.WriteResponseMessages(text);
        }

        var tcp = _tcp.Values.OrderBy(s => s.Labels, StringComparer.Ordinal).ToArray();
        foreach (var (name, help) in (ReadOnlySpan<(string, string)>)[
            ("istio_tcp_sent_bytes_total", "Bytes sent to the downstream peer over TCP connections."),
            ("istio_tcp_received_bytes_total", "Bytes received from the downstream peer over TCP connections."),
            ("istio_tcp_connections_opened_total", "TCP connections opened."),
            ("istio_tcp_connections_closed_total", "TCP connections closed.")])
        {
            PrometheusText.Header(text, name, "counter", help);
            foreach (var s in tcp)
            {
                s.Write(text, name);
            }
        }

        WriteHealth(text);
        return text.ToString();
    }

    private void WriteHealth(StringBuilder text)
    {
        var listeners = _connections.Values.OrderBy(c => c.Listener, StringComparer.Ordinal).ToArray();
        PrometheusText.Header(text, "envoy_listener_downstream_cx_active", "gauge", "Downstream connections open now, per listener.");
        foreach (var c in listeners)
        {
            PrometheusText.Sample(text, "envoy_listener_downstream_cx_active", ListenerLabels(c), c.Active);
        }

        PrometheusText.Header(text, "envoy_listener_downstream_cx_total", "counter", "Downstream connections accepted, per listener.");
        foreach (var c in listeners)
        {
            PrometheusText.Sample(text, "envoy_listener_downstream_cx_total", ListenerLabels(c), c.Total);
        }

        PrometheusText.Header(text, "envoy_server_total_connections", "gauge", "Downstream connections open now, all listeners.");
        PrometheusText.Sample(text, "envoy_server_total_connections", "", listeners.Sum(c => c.Active));

        PrometheusText.Header(text, "envoy_server_uptime", "gauge", "Seconds since the proxy started.");
        PrometheusText.Sample(text, "envoy_server_uptime", "", Math.Floor(_time.GetElapsedTime(_startedAt).TotalSeconds));

        // Envoy's memory gauges, from the GC's view; the Bowline ones show the GC pressure the request path makes.
        var gc = GC.GetGCMemoryInfo();
        PrometheusText.Header(text, "envoy_server_memory_allocated", "gauge", "Bytes in use on the managed heap (at the last collection).");
        PrometheusText.Sample(text, "envoy_server_memory_allocated", "", gc.HeapSizeBytes);
        PrometheusText.Header(text, "envoy_server_memory_heap_size", "gauge", "Bytes the GC has committed.");
        PrometheusText.Sample(text, "envoy_server_memory_heap_size", "", gc.TotalCommittedBytes);
        PrometheusText.Header(text, "bowline_gc_allocated_bytes_total", "counter", "Bytes allocated on the managed heap since start.");
        PrometheusText.Sample(text, "bowline_gc_allocated_bytes_total", "", GC.GetTotalAllocatedBytes());
        PrometheusText.Header(text, "bowline_gc_collections_total", "counter", "Garbage collections since start, per generation.");
        for (var generation = 0; generation <= 2; generation++)
        {
            PrometheusText.Sample(text, "bowline_gc_collections_total", $"generation=\"{generation}\"", GC.CollectionCount(generation));
        }

        var clusters = Clusters?.All().OrderBy(c => c.Name, StringComparer.Ordinal).ToArray() ?? [];
        ClusterCounter(text, clusters, "envoy_cluster_upstream_rq_retry", "Retries sent to the cluster.", s => s.Retries);
        ClusterCounter(text, clusters, "envoy_cluster_upstream_rq_retry_overflow", "Retries not sent because the cluster's maxRetries were in flight.", s => s.RetryOverflows);
        ClusterCounter(text, clusters, "envoy_cluster_upstream_rq_pending_overflow", "Requests refused by the cluster's circuit breakers (503 UO).", s => s.Overflows);
        ClusterCounter(text, clusters, "envoy_cluster_outlier_detection_ejections_enforced_total", "Endpoints ejected by outlier detection.", s => s.Ejections);

        PrometheusText.Header(text, "envoy_listener_manager_lds_update_success", "counter", "Configs applied.");
        PrometheusText.Sample(text, "envoy_listener_manager_lds_update_success", "", Interlocked.Read(ref _configSuccesses));
        PrometheusText.Header(text, "envoy_listener_manager_lds_update_rejected", "counter", "Configs rejected (NACKed).");
        PrometheusText.Sample(text, "envoy_listener_manager_lds_update_rejected", "", Interlocked.Read(ref _configRejections));
        if (Volatile.Read(ref _lastApplied) is { } last)
        {
            PrometheusText.Header(text, "envoy_listener_manager_lds_update_time", "gauge", "When the last config was applied, milliseconds since the epoch.");
            PrometheusText.Sample(text, "envoy_listener_manager_lds_update_time", "", last.At.ToUnixTimeMilliseconds());
            PrometheusText.Header(text, "envoy_listener_manager_lds_version", "gauge", "The applied config's version (its 12 hex digits as a number).");
            PrometheusText.Sample(text, "envoy_listener_manager_lds_version", "",
                ulong.TryParse(last.Version, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var v) ? v : 0);
            PrometheusText.Header(text, "bowline_proxy_config_info", "gauge", "The version of the config in use, as a label.");
            PrometheusText.Sample(text, "bowline_proxy_config_info", $"version=\"{PrometheusText.Escape(last.Version)}\"", 1);
        }
    }

    private static string ListenerLabels(ConnectionCounters c) =>
        $"listener_address=\"{PrometheusText.Escape(c.Address)}\",listener_name=\"{PrometheusText.Escape(c.Listener)}\"";

    private static void ClusterCounter(StringBuilder text, (string Name, ClusterStats Stats)[] clusters, string name, string help, Func<ClusterStats, long> read)
    {
        PrometheusText.Header(text, name, "counter", help);
        foreach (var (cluster, stats) in clusters)
        {
            PrometheusText.Sample(text, name, $"cluster_name=\"{PrometheusText.Escape(cluster)}\"", read(stats));
        }
    }

    private sealed record AppliedConfig(string Version, DateTimeOffset At);
}
