using Bowline.Api.Xds;

namespace Bowline.Proxy.LoadBalancing;

/// <summary>
/// Envoy's passive outlier detection for one compiled cluster. The request path reports each answer lock-free
/// (<see cref="Record"/>); the run that reaches a threshold ejects the endpoint at once. Every
/// <see cref="OutlierDetection.Interval"/> a sweep ends ejections that have lasted baseEjectionTime × the endpoint's
/// ejection multiplier (capped at 300 s) and lowers the multiplier of endpoints that stayed healthy. Ejecting and
/// sweeping take a lock: they are rare, and they publish a new <see cref="HostSet"/> the request path reads.
/// </summary>
internal sealed class OutlierDetector : IDisposable
{
    /// <summary>Envoy's max_ejection_time default.</summary>
    private static readonly TimeSpan MaxEjectionTime = TimeSpan.FromSeconds(300);

    private readonly OutlierDetection _settings;
    private readonly UpstreamEndpoint[] _endpoints;
    private readonly ClusterStats _stats;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private HostSet _hosts;
    private ITimer? _timer;
    private bool _disposed;

    public OutlierDetector(OutlierDetection settings, UpstreamEndpoint[] endpoints, ClusterStats stats, TimeProvider time)
    {
        _settings = settings;
        _endpoints = endpoints;
        _stats = stats;
        _time = time;
        // Endpoints carried over from the previous config keep their ejections.
        _hosts = Compute();
    }

    public HostSet Hosts => Volatile.Read(ref _hosts);

    /// <summary>Starts the sweeps (once the config is in use, so a rejected config leaves no timer behind).</summary>
    public void Start()
    {
        lock (_lock)
        {
            if (!_disposed && _timer is null)
            {
                // One-shot, re-armed after each sweep: sweeps never overlap, whatever the clock does.
                _timer = _time.CreateTimer(static s => ((OutlierDetector)s!).Sweep(), this, _settings.Interval, Timeout.InfiniteTimeSpan);
            }
        }
    }

    /// <summary>One upstream answer of an endpoint; connect failures and resets count as 503, timeouts as 504 (Envoy).</summary>
    public void Record(UpstreamEndpoint endpoint, int status)
    {
        if (status < 500 || status > 599)
        {
            endpoint.ResetErrors();
            return;
        }

        var gatewayThreshold = _settings.ConsecutiveGatewayErrors;
        if (gatewayThreshold > 0)
        {
            if (status is 502 or 503 or 504)
            {
                // Exactly the threshold: only the request completing the run ejects, the others in flight do not.
                if (endpoint.AddGatewayError() == gatewayThreshold)
                {
                    Eject(endpoint);
                }
            }
            else
            {
                endpoint.ResetGatewayErrors();
            }
        }

        var threshold = _settings.Consecutive5xxErrors;
        if (threshold > 0 && endpoint.Add5xx() == threshold)
        {
            Eject(endpoint);
        }
    }

    private void Eject(UpstreamEndpoint endpoint)
    {
        lock (_lock)
        {
            endpoint.ResetErrors();
            if (endpoint.Ejected)
            {
                return;
            }

            // Envoy counts the endpoint about to go: no ejection that would take the ejected share above the maximum.
            var ejected = 1;
            foreach (var e in _endpoints)
            {
                ejected += e.Ejected ? 1 : 0;
            }

            if (ejected * 100L > (long)_settings.MaxEjectionPercent * _endpoints.Length)
            {
                return;
            }

            endpoint.Ejected = true;
            endpoint.EjectedAt = _time.GetTimestamp();
            endpoint.EjectionMultiplier++;
            _stats.RecordEjection();
            Volatile.Write(ref _hosts, Compute());
        }
    }

    /// <summary>Ends due ejections; public so tests can sweep without waiting for the timer.</summary>
    public void Sweep()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            var baseTime = _settings.BaseEjectionTime;
            var cap = baseTime > MaxEjectionTime ? baseTime : MaxEjectionTime;
            var changed = false;
            foreach (var endpoint in _endpoints)
            {
                if (!endpoint.Ejected)
                {
                    // Healthy for an interval: the next ejection is one step shorter (Envoy's back-off decay).
                    if (endpoint.EjectionMultiplier > 0)
                    {
                        endpoint.EjectionMultiplier--;
                    }

                    continue;
                }

                var duration = baseTime * endpoint.EjectionMultiplier;
                if (_time.GetElapsedTime(endpoint.EjectedAt) >= (duration < cap ? duration : cap))
                {
                    endpoint.Ejected = false;
                    endpoint.ResetErrors();
                    changed = true;
                }
            }

            // Always republished: another config's detector may have changed a shared endpoint meanwhile.
            var hosts = Compute();
            if (changed || !hosts.Available.AsSpan().SequenceEqual(Hosts.Available))
            {
                Volatile.Write(ref _hosts, hosts);
            }

            _timer?.Change(_settings.Interval, Timeout.InfiniteTimeSpan);
        }
    }

    private HostSet Compute()
    {
        var healthy = _endpoints.Where(e => !e.Ejected).ToArray();
        // Panic (Envoy's healthy_panic_threshold = Istio's minHealthPercent): too few healthy, so use them all.
        return healthy.Length * 100L < (long)_settings.MinHealthPercent * _endpoints.Length
            ? new HostSet(_endpoints, IgnoreEjections: true)
            : new HostSet(healthy, IgnoreEjections: false);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _timer?.Dispose();
        }
    }
}
