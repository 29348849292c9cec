using Bowline.Api.Xds;
using Bowline.Proxy.Config;
using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Routing;

/// <summary>A route's retry policy with Envoy's retry_on semantics.</summary>
internal sealed class CompiledRetryPolicy
{
    /// <summary>Request header adding status codes to "retriable-status-codes" (Envoy's x-envoy-retriable-status-codes).</summary>
    public const string RetriableStatusCodesHeader = "x-envoy-retriable-status-codes";

    private const RetryConditions Grpc = RetryConditions.GrpcCancelled | RetryConditions.GrpcDeadlineExceeded
        | RetryConditions.GrpcResourceExhausted | RetryConditions.GrpcInternal | RetryConditions.GrpcUnavailable;

    private readonly int[] _statusCodes;

    private CompiledRetryPolicy(int attempts, TimeSpan? perTryTimeout, RetryConditions on, int[] statusCodes)
    {
        Attempts = attempts;
        PerTryTimeout = perTryTimeout;
        On = on;
        _statusCodes = statusCodes;
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

        if (policy.PerTryTimeout is { } perTry && perTry < TimeSpan.Zero)
        {
            throw new ConfigException($"{where}: negative perTryTimeout");
        }

        // Istio's default when retryOn is unset (the control plane normally sends it explicitly).
        var retryOn = string.IsNullOrWhiteSpace(policy.RetryOn) ? "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes" : policy.RetryOn;
        var on = RetryConditions.None;
        var codes = new List<int>(policy.RetriableStatusCodes.IsDefault ? [] : policy.RetriableStatusCodes);
        foreach (var raw in retryOn.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (int.TryParse(raw, out var code))
            {
                // Istio's numeric shorthand, should a config carry it unconverted.
                codes.Add(code);
                on |= RetryConditions.RetriableStatusCodes;
                continue;
            }

            on |= raw switch
            {
                "connect-failure" => RetryConditions.ConnectFailure,
                "reset" => RetryConditions.Reset,
                "refused-stream" => RetryConditions.RefusedStream,
                "gateway-error" => RetryConditions.GatewayError,
                "5xx" => RetryConditions.FiveXx,
                "retriable-4xx" => RetryConditions.Retriable4xx,
                "retriable-status-codes" => RetryConditions.RetriableStatusCodes,
                "cancelled" => RetryConditions.GrpcCancelled,
                "deadline-exceeded" => RetryConditions.GrpcDeadlineExceeded,
                "resource-exhausted" => RetryConditions.GrpcResourceExhausted,
                "internal" => RetryConditions.GrpcInternal,
                "unavailable" => RetryConditions.GrpcUnavailable,
                // Needs header matchers Bowline does not push: accepted, never true.
                "retriable-headers" => RetryConditions.None,
                _ => throw new ConfigException($"{where}: unknown retryOn condition '{raw}'"),
            };
        }

        foreach (var code in codes)
        {
            if (code is < 100 or > 599)
            {
                throw new ConfigException($"{where}: retriable status code {code} is out of range 100-599");
            }
        }

        return new CompiledRetryPolicy(policy.Attempts, policy.PerTryTimeout, on, [.. codes.Distinct()]);
    }

    /// <summary>Whether an upstream response asks for a retry (status, retriable codes, or a gRPC status in its headers).</summary>
    public bool ShouldRetry(Forwarding.UpstreamResponse response, HttpRequest downstream)
    {
        var status = response.StatusCode;
        if (ShouldRetry(status))
        {
            return true;
        }

        if ((On & RetryConditions.RetriableStatusCodes) != 0 && (Array.IndexOf(_statusCodes, status) >= 0 || HeaderListsStatus(downstream, status)))
        {
            return true;
        }

        return (On & Grpc) != 0 && response.Header("grpc-status") is { } grpcStatus && (On & GrpcCondition(grpcStatus)) != 0;
    }

    /// <summary>The status conditions alone (5xx, gateway-error, retriable-4xx).</summary>
    public bool ShouldRetry(int statusCode) => statusCode switch
    {
        >= 500 when (On & RetryConditions.FiveXx) != 0 => true,
        502 or 503 or 504 when (On & RetryConditions.GatewayError) != 0 => true,
        409 when (On & RetryConditions.Retriable4xx) != 0 => true,
        _ => false,
    };

    public bool RetriesConnectFailure => (On & (RetryConditions.ConnectFailure | RetryConditions.FiveXx | RetryConditions.GatewayError)) != 0;

    /// <summary>Whether a reset before response headers is retried; a REFUSED_STREAM also under "refused-stream".</summary>
    public bool RetriesReset(bool refusedStream) =>
        (On & (RetryConditions.Reset | RetryConditions.FiveXx | RetryConditions.GatewayError)) != 0
        || (refusedStream && (On & RetryConditions.RefusedStream) != 0);

    /// <summary>A per-try timeout counts as a gateway error, as in Envoy.</summary>
    public bool RetriesPerTryTimeout => (On & (RetryConditions.FiveXx | RetryConditions.GatewayError)) != 0;

    private static RetryConditions GrpcCondition(string grpcStatus) => grpcStatus switch
    {
        "1" => RetryConditions.GrpcCancelled,
        "4" => RetryConditions.GrpcDeadlineExceeded,
        "8" => RetryConditions.GrpcResourceExhausted,
        "13" => RetryConditions.GrpcInternal,
        "14" => RetryConditions.GrpcUnavailable,
        _ => RetryConditions.None,
    };

    // "x-envoy-retriable-status-codes: 409,418", parsed without allocating.
    private static bool HeaderListsStatus(HttpRequest downstream, int status)
    {
        var header = downstream.Headers[RetriableStatusCodesHeader];
        foreach (var value in header)
        {
            var span = value.AsSpan();
            foreach (var range in span.Split(','))
            {
                if (int.TryParse(span[range].Trim(), out var code) && code == status)
                {
                    return true;
                }
            }
        }

        return false;
    }
}
