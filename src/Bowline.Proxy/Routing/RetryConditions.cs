namespace Bowline.Proxy.Routing;

/// <summary>Envoy's retry_on conditions that Bowline understands.</summary>
[Flags]
internal enum RetryConditions
{
    None = 0,
    ConnectFailure = 1,
    /// <summary>The upstream reset the connection or stream before response headers ("reset", "refused-stream").</summary>
    Reset = 2,
    /// <summary>502, 503, 504.</summary>
    GatewayError = 4,
    /// <summary>Any 5xx, plus connect failures and resets.</summary>
    FiveXx = 8,
    /// <summary>409.</summary>
    Retriable4xx = 16,
}
