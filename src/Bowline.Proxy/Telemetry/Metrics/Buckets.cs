namespace Bowline.Proxy.Telemetry.Metrics;

/// <summary>Histogram bucket bounds (upper, inclusive), as Istio's proxies export them.</summary>
internal static class Buckets
{
    /// <summary>Envoy's default histogram buckets, in milliseconds (istio_request_duration_milliseconds).</summary>
    public static readonly double[] DurationMs =
        [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

    /// <summary>Istio's buckets for istio_request_bytes / istio_response_bytes: 1 B to 10 MB by powers of ten.</summary>
    public static readonly double[] Bytes = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000];

    /// <summary>The bucket a value falls in; bounds.Length is the +Inf bucket. A linear scan: ≤ 19 compares, no branches mispredicted for typical values.</summary>
    public static int IndexOf(double[] bounds, double value)
    {
        var i = 0;
        while (i < bounds.Length && value > bounds[i])
        {
            i++;
        }

        return i;
    }
}
