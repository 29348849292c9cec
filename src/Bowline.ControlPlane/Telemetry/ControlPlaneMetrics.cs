using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Bowline.ControlPlane.Telemetry;

/// <summary>
/// The control plane's own metrics at GET /metrics, named as istiod names them: connected proxies (pilot_xds), pushes
/// by type (pilot_xds_pushes), how long a change takes to reach a proxy (pilot_proxy_convergence_time), rejected
/// configs (pilot_total_xds_rejects), config and registry events (pilot_k8s_cfg_events, pilot_k8s_reg_events), and
/// refused applies (galley_validation_failed). Nothing here is on a proxy's request path; plain interlocked counters.
/// </summary>
internal sealed class ControlPlaneMetrics(TimeProvider time)
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>istiod's buckets for pilot_proxy_convergence_time, in seconds.</summary>
    private static readonly double[] ConvergenceBuckets = [0.1, 0.5, 1, 3, 5, 10, 20, 30];

    private readonly ConcurrentDictionary<string, long[]> _pushes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Type, string Event), long[]> _configEvents = new();
    private readonly long[] _convergence = new long[ConvergenceBuckets.Length + 1];
    private long _convergenceSumMicros;
    private long _rejects;
    private long _validationFailures;
    private long _registryEvents;
    private long _pushRounds;
    private long _changedAt;

    public TimeProvider Time { get; } = time;

    /// <summary>Connected proxies now (read at scrape time).</summary>
    public Func<int> ConnectedProxies { get; set; } = () => 0;

    /// <summary>Applied resources by kind (read at scrape time).</summary>
    public Func<IEnumerable<(string Kind, int Count)>> Resources { get; set; } = () => [];

    /// <summary>A config or registry change: its time starts the convergence clock (the first change of a burst).</summary>
    public void Changed() => Interlocked.CompareExchange(ref _changedAt, Time.GetTimestamp(), 0);

    /// <summary>A push round begins: the changes it covers were made since <see cref="Changed"/>; 0 when none (a connect).</summary>
    public long BeginRound()
    {
        Interlocked.Increment(ref _pushRounds);
        return Interlocked.Exchange(ref _changedAt, 0);
    }

    /// <summary>One response sent: whole configs push every type, deltas the types they carry.</summary>
    public void Pushed(IEnumerable<string> types)
    {
        foreach (var type in types)
        {
            Interlocked.Increment(ref _pushes.GetOrAdd(type, static _ => new long[1])[0]);
        }
    }

    /// <summary>A proxy got the config of a change made at <paramref name="changedAt"/> (a timestamp of <see cref="Time"/>).</summary>
    public void Converged(long changedAt)
    {
        if (changedAt == 0)
        {
            return;
        }

        var seconds = Time.GetElapsedTime(changedAt).TotalSeconds;
        var i = 0;
        while (i < ConvergenceBuckets.Length && seconds > ConvergenceBuckets[i])
        {
            i++;
        }

        Interlocked.Increment(ref _convergence[i]);
        Interlocked.Add(ref _convergenceSumMicros, (long)(seconds * 1_000_000));
    }

    public void Rejected() => Interlocked.Increment(ref _rejects);

    public void ValidationFailed(int errors) => Interlocked.Add(ref _validationFailures, errors);

    public void RegistryChanged() => Interlocked.Increment(ref _registryEvents);

    /// <summary>kubectl-style change lines ("virtualservice.networking.istio.io/reviews created") as config events.</summary>
    public void ConfigChanges(IEnumerable<string> changes)
    {
        foreach (var line in changes)
        {
            var space = line.LastIndexOf(' ');
            var dot = line.IndexOf('.', StringComparison.Ordinal);
            var slash = line.IndexOf('/', StringComparison.Ordinal);
            if (space < 0)
            {
                continue;
            }

            var ev = line[(space + 1)..] switch
            {
                "created" => "add",
                "configured" => "update",
                "deleted" => "delete",
                _ => null,
            };
            var kindEnd = dot > 0 ? dot : slash;
            if (ev is null || kindEnd <= 0)
            {
                continue;
            }

            Interlocked.Increment(ref _configEvents.GetOrAdd((line[..kindEnd], ev), static _ => new long[1])[0]);
        }
    }

    public string Render()
    {
        var text = new StringBuilder(8 * 1024);
        Header(text, "pilot_xds", "gauge", "Proxies connected to this control plane.");
        Sample(text, "pilot_xds", "", ConnectedProxies());

        Header(text, "pilot_xds_pushes", "counter", "Configs pushed, by xDS type (a whole config counts for lds, rds and cds).");
        foreach (var (type, count) in _pushes.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            Sample(text, "pilot_xds_pushes", $"type=\"{type}\"", Interlocked.Read(ref count[0]));
        }

        Header(text, "pilot_push_triggers", "counter", "Push rounds run (debounced changes and connects).");
        Sample(text, "pilot_push_triggers", "", Interlocked.Read(ref _pushRounds));

        Header(text, "pilot_proxy_convergence_time", "histogram", "Seconds from a config or registry change to a proxy being sent its config.");
        long cumulative = 0;
        for (var i = 0; i <= ConvergenceBuckets.Length; i++)
        {
            cumulative += Interlocked.Read(ref _convergence[i]);
            var le = i < ConvergenceBuckets.Length ? ConvergenceBuckets[i].ToString("R", CultureInfo.InvariantCulture) : "+Inf";
            Sample(text, "pilot_proxy_convergence_time_bucket", $"le=\"{le}\"", cumulative);
        }

        Sample(text, "pilot_proxy_convergence_time_sum", "", Interlocked.Read(ref _convergenceSumMicros) / 1e6);
        Sample(text, "pilot_proxy_convergence_time_count", "", cumulative);

        Header(text, "pilot_total_xds_rejects", "counter", "Configs proxies rejected (NACKed whole configs).");
        Sample(text, "pilot_total_xds_rejects", "", Interlocked.Read(ref _rejects));

        Header(text, "pilot_k8s_cfg_events", "counter", "Config resources added, updated or deleted.");
        foreach (var ((type, ev), count) in _configEvents.OrderBy(e => e.Key.Type, StringComparer.Ordinal).ThenBy(e => e.Key.Event, StringComparer.Ordinal))
        {
            Sample(text, "pilot_k8s_cfg_events", $"type=\"{type}\",event=\"{ev}\"", Interlocked.Read(ref count[0]));
        }

        Header(text, "pilot_k8s_reg_events", "counter", "Workload registry changes (bowline up's registry file).");
        Sample(text, "pilot_k8s_reg_events", "type=\"Pods\",event=\"update\"", Interlocked.Read(ref _registryEvents));

        Header(text, "galley_validation_failed", "counter", "Validation errors of refused applies.");
        Sample(text, "galley_validation_failed", "", Interlocked.Read(ref _validationFailures));

        var kinds = Resources().ToDictionary(r => r.Kind, r => r.Count, StringComparer.OrdinalIgnoreCase);
        Header(text, "pilot_virt_services", "gauge", "VirtualServices applied.");
        Sample(text, "pilot_virt_services", "", kinds.GetValueOrDefault("VirtualService"));
        return text.ToString();
    }

    private static void Header(StringBuilder text, string name, string type, string help) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n').Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Sample(StringBuilder text, string name, string labels, double value)
    {
        text.Append(name);
        if (labels.Length > 0)
        {
            text.Append('{').Append(labels).Append('}');
        }

        text.Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
    }
}
