namespace Bowline.Proxy.Telemetry.Metrics;

/// <summary>Downstream connections of one listener (Envoy's downstream_cx_active / downstream_cx_total).</summary>
internal sealed class ConnectionCounters(string listener)
{
    private long _active;
    private long _total;

    public string Listener { get; } = listener;

    /// <summary>"127.0.0.1_9080", Envoy's listener_address tag; set once the listener is bound.</summary>
    public string Address { get; set; } = "unknown";

    public long Active => Interlocked.Read(ref _active);

    public long Total => Interlocked.Read(ref _total);

    public void Opened()
    {
        Interlocked.Increment(ref _active);
        Interlocked.Increment(ref _total);
    }

    public void Closed() => Interlocked.Decrement(ref _active);
}
