using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Grpc;

/// <summary>
/// Envoy's max_grpc_timeout as Istio sets it (equal to the route timeout, 0 meaning none): a gRPC request's
/// grpc-timeout becomes its timeout, capped by the route's; without grpc-timeout the route's applies.
/// </summary>
internal static class GrpcDeadline
{
    public static TimeSpan? Cap(TimeSpan? routeTimeout, HttpRequest request)
    {
        if (!GrpcProtocol.IsGrpc(request) || GrpcProtocol.Timeout(request) is not { } deadline)
        {
            return routeTimeout;
        }

        return routeTimeout is { } r && r < deadline ? r : deadline;
    }
}
