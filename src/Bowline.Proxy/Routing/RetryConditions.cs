namespace Bowline.Proxy.Routing;

/// <summary>Envoy's retry_on conditions that Bowline understands.</summary>
[Flags]
internal enum RetryConditions
{
    None = 0,
    ConnectFailure = 1,
    /// <summary>The upstream reset the connection or stream before response headers ("reset").</summary>
    Reset = 2,
    /// <summary>502, 503, 504, plus connect failures, resets and per-try timeouts.</summary>
    GatewayError = 4,
    /// <summary>Any 5xx, plus connect failures, resets and per-try timeouts.</summary>
    FiveXx = 8,
    /// <summary>409.</summary>
    Retriable4xx = 16,
    /// <summary>An HTTP/2 REFUSED_STREAM before response headers.</summary>
    RefusedStream = 32,
    /// <summary>The policy's status codes and those of the request's x-envoy-retriable-status-codes header.</summary>
    RetriableStatusCodes = 64,
    /// <summary>grpc-status 1 in the response headers (a trailers-only response).</summary>
    GrpcCancelled = 128,
    /// <summary>grpc-status 4.</summary>
    GrpcDeadlineExceeded = 256,
    /// <summary>grpc-status 8.</summary>
    GrpcResourceExhausted = 512,
    /// <summary>grpc-status 13.</summary>
    GrpcInternal = 1024,
    /// <summary>grpc-status 14.</summary>
    GrpcUnavailable = 2048,
}
