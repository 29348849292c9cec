using System.Globalization;
using Bowline.Api.Resources;
using Bowline.Api.Xds;

namespace Bowline.ControlPlane.Generation;

/// <summary>Translates a VirtualService route's <c>retries</c> as Istio does, including Istio's default policy when none is set.</summary>
internal static class RetryBuilder
{
    /// <summary>Istio's retryOn when a route sets none (or sets retries without retryOn).</summary>
    public const string DefaultRetryOn = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes";

    /// <summary>
    /// Istio's default for every HTTP route without <c>retries</c>: 2 retries on connection problems, gRPC
    /// unavailable/cancelled and 503. Sent explicitly so the proxy holds no policy of its own.
    /// </summary>
    public static RetryPolicy Default { get; } = new() { Attempts = 2, RetryOn = DefaultRetryOn, RetriableStatusCodes = [503] };

    /// <summary>The pushed policy; null when retries are disabled (attempts 0), as in Istio.</summary>
    public static RetryPolicy? Build(HTTPRetry? retries)
    {
        if (retries is null)
        {
            return Default;
        }

        if (retries.Attempts <= 0)
        {
            return null;
        }

        if (string.IsNullOrWhiteSpace(retries.RetryOn))
        {
            return Default with { Attempts = retries.Attempts, PerTryTimeout = retries.PerTryTimeout };
        }

        // Istio moves numeric entries ("503") to Envoy's retriable_status_codes and turns on retriable-status-codes.
        var names = new List<string>();
        var codes = new List<int>();
        foreach (var entry in retries.RetryOn.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (int.TryParse(entry, NumberStyles.None, CultureInfo.InvariantCulture, out var code))
            {
                codes.Add(code);
            }
            else if (!names.Contains(entry, StringComparer.Ordinal))
            {
                names.Add(entry);
            }
        }

        if (codes.Count > 0 && !names.Contains("retriable-status-codes", StringComparer.Ordinal))
        {
            names.Add("retriable-status-codes");
        }

        return new RetryPolicy
        {
            Attempts = retries.Attempts,
            PerTryTimeout = retries.PerTryTimeout,
            RetryOn = string.Join(',', names),
            RetriableStatusCodes = [.. codes.Distinct().Order()],
        };
    }
}
