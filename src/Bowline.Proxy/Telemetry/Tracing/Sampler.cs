using Bowline.Proxy.LoadBalancing;
using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Telemetry.Tracing;

/// <summary>Envoy's tracing decision: forced, else the caller's, else a random draw at the configured percentage.</summary>
internal static class Sampler
{
    /// <summary>Envoy traces a request carrying it (every local caller counts as internal).</summary>
    public const string ForceTrace = "x-envoy-force-trace";
    /// <summary>Envoy traces a request carrying it (client_sampling, 100 % by default).</summary>
    public const string ClientTraceId = "x-client-trace-id";

    public static bool Decide(IHeaderDictionary headers, TraceContext incoming, double percentage, IRandomSource random)
    {
        if (headers.ContainsKey(ForceTrace) || headers.ContainsKey(ClientTraceId))
        {
            return true;
        }

        if (incoming.Sampled is { } decided)
        {
            return decided;
        }

        // In hundredths of a percent, as Envoy's fractional percentages go finer than whole ones (Istio's default is 1 %).
        var threshold = (int)Math.Round(percentage * 100);
        return threshold >= 10000 || (threshold > 0 && random.Next(10000) < threshold);
    }
}
