using Bowline.Api.Xds;
using Bowline.Proxy.Config;

namespace Bowline.Proxy.Routing;

internal sealed class CompiledRetryPolicy
{
    private CompiledRetryPolicy(int attempts, TimeSpan? perTryTimeout, RetryConditions on)
    {
        Attempts = attempts;
        PerTryTimeout = perTryTimeout;
        On = on;
    }

    /// <summary>Retries after the first try (Istio's "attempts").</summary>
    public int Attempts { get; }
    public TimeSpan? PerTryTimeout { get; }
    public RetryConditions On { get; }

    public static CompiledRetryPolicy? Compile(RetryPolicy? policy, string where)
    {
        if (policy is null || policy.Attempts <= 0)
        {
            return null;
        }

        // Istio's default when retryOn is unset.
        var retryOn = string.IsNullOrWhiteSpace(policy.RetryOn) ? "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes" : policy.RetryOn;
        var on = RetryConditions.None;
        foreach (var raw in retryOn.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            on |= raw switch
            {
                "connect-failure" => RetryConditions.ConnectFailure,
                "reset" or "refused-stream" => RetryConditions.Reset,
                "gateway-error" or "unavailable" => RetryConditions.GatewayError,
                "5xx" => RetryConditions.FiveXx,
                "retriable-4xx" => RetryConditions.Retriable4xx,
                // gRPC status conditions and status-code lists need more than Bowline tracks today: accepted, ignored.
                "cancelled" or "deadline-exceeded" or "resource-exhausted" or "internal" or "retriable-status-codes" or "retriable-headers" => RetryConditions.None,
                _ when int.TryParse(raw, out _) => RetryConditions.None,
                _ => throw new ConfigException($"{where}: unknown retryOn condition '{raw}'"),
            };
        }

        return new CompiledRetryPolicy(policy.Attempts, policy.PerTryTimeout, on);
    }

    public bool ShouldRetry(int statusCode) => statusCode switch
    {
        >= 500 when (On & RetryConditions.FiveXx) != 0 => true,
        502 or 503 or 504 when (On & RetryConditions.GatewayError) != 0 => true,
        409 when (On & RetryConditions.Retriable4xx) != 0 => true,
        _ => false,
    };

    public bool RetriesConnectFailure => (On & (RetryConditions.ConnectFailure | RetryConditions.FiveXx)) != 0;

    public bool RetriesReset => (On & (RetryConditions.Reset | RetryConditions.FiveXx)) != 0;
}
