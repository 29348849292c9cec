using System.Text;
using Bowline.Proxy.Grpc;
using Bowline.Proxy.Pipeline;
using Bowline.Proxy.Routing;
using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Forwarding;

/// <summary>Responses the proxy makes itself, with Envoy's status codes and bodies.</summary>
internal static class LocalReplies
{
    private static readonly byte[] NoHealthyUpstream = Encoding.ASCII.GetBytes("no healthy upstream");
    private static readonly byte[] ConnectFailure = Encoding.ASCII.GetBytes("upstream connect error or disconnect/reset before headers. reset reason: connection failure");
    private static readonly byte[] ConnectionTermination = Encoding.ASCII.GetBytes("upstream connect error or disconnect/reset before headers. reset reason: connection termination");
    private static readonly byte[] Overflow = Encoding.ASCII.GetBytes("upstream connect error or disconnect/reset before headers. reset reason: overflow");
    private static readonly byte[] Timeout = Encoding.ASCII.GetBytes("upstream request timeout");
    private static readonly byte[] RateLimitedBody = Encoding.ASCII.GetBytes("local_rate_limited");
    private static readonly byte[] ListenerDraining = Encoding.ASCII.GetBytes("listener draining");
    private const string FaultAbortText = "fault filter abort";
    private static readonly byte[] FaultAbort = Encoding.ASCII.GetBytes(FaultAbortText);

    public static Task NoRouteAsync(HttpContext context, ProxyRequestFeature feature) =>
        WriteAsync(context, feature, ResponseFlags.NoRoute, StatusCodes.Status404NotFound, []);

    public static Task NoHealthyUpstreamAsync(HttpContext context, ProxyRequestFeature feature) =>
        WriteAsync(context, feature, ResponseFlags.NoHealthyUpstream, StatusCodes.Status503ServiceUnavailable, NoHealthyUpstream);

    public static Task ConnectFailureAsync(HttpContext context, ProxyRequestFeature feature) =>
        WriteAsync(context, feature, ResponseFlags.UpstreamConnectionFailure, StatusCodes.Status503ServiceUnavailable, ConnectFailure);

    /// <summary>The cluster's circuit breakers (connectionPool limits) refused the request.</summary>
    /// <remarks>Envoy marks a request dropped by circuit breaking with x-envoy-overloaded.</remarks>
    public static Task OverflowAsync(HttpContext context, ProxyRequestFeature feature)
    {
        context.Response.Headers["x-envoy-overloaded"] = "true";
        return WriteAsync(context, feature, ResponseFlags.UpstreamOverflow, StatusCodes.Status503ServiceUnavailable, Overflow);
    }

    /// <summary>The local rate limit found no token: Envoy's local_ratelimit answer (429, x-envoy-ratelimited).</summary>
    public static Task RateLimitedAsync(HttpContext context, ProxyRequestFeature feature)
    {
        context.Response.Headers["x-envoy-ratelimited"] = "true";
        return WriteAsync(context, feature, ResponseFlags.RateLimited, StatusCodes.Status429TooManyRequests, RateLimitedBody);
    }

    public static Task ConnectionTerminationAsync(HttpContext context, ProxyRequestFeature feature) =>
        WriteAsync(context, feature, ResponseFlags.UpstreamConnectionTermination, StatusCodes.Status503ServiceUnavailable, ConnectionTermination);

    /// <summary>
    /// The downstream request broke HTTP (a malformed chunked body, a transfer coding other than chunked): Envoy's
    /// answer to a downstream protocol error — the status, no body, flag DPE — and the connection is closed, since
    /// where the next request would start is unknown.
    /// </summary>
    public static Task DownstreamProtocolErrorAsync(HttpContext context, ProxyRequestFeature feature, int status)
    {
        if (!context.Response.HasStarted && HttpProtocol.IsHttp11(context.Request.Protocol))
        {
            context.Response.Headers.Connection = "close";
        }

        return WriteAsync(context, feature, ResponseFlags.DownstreamProtocolError, status, []);
    }

    /// <summary>
    /// 504; for a gRPC request DEADLINE_EXCEEDED rather than the mapped UNAVAILABLE, as Envoy answers since
    /// envoyproxy/envoy#44479 (UNAVAILABLE would invite the client to retry a call whose deadline is spent).
    /// </summary>
    public static Task TimeoutAsync(HttpContext context, ProxyRequestFeature feature) =>
        WriteAsync(context, feature, ResponseFlags.UpstreamRequestTimeout, StatusCodes.Status504GatewayTimeout, Timeout, GrpcProtocol.GrpcStatus.DeadlineExceeded);

    /// <summary>The route's fault policy aborted the request with an HTTP status (Envoy's fault filter body).</summary>
    public static Task FaultAbortAsync(HttpContext context, ProxyRequestFeature feature, int status) =>
        WriteAsync(context, feature, ResponseFlags.FaultInjected, status, FaultAbort);

    /// <summary>
    /// A gRPC fault abort: gRPC carries its status in grpc-status, so the HTTP answer is 200 with no body — a
    /// "trailers-only" response, which gRPC clients read from the headers.
    /// </summary>
    public static Task GrpcFaultAbortAsync(HttpContext context, ProxyRequestFeature feature, int grpcStatus)
    {
        feature.Flags |= ResponseFlags.FaultInjected;
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = grpcStatus.ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = FaultAbortText;
        return Task.CompletedTask;
    }

    /// <summary>The route's redirect (Envoy answers it without a body).</summary>
    public static Task RedirectAsync(HttpContext context, ProxyRequestFeature feature, int code, string location)
    {
        context.Response.Headers.Location = location;
        return WriteAsync(context, feature, ResponseFlags.None, code, []);
    }

    /// <summary>The route's direct response; a body goes out as text/plain, as Envoy's local replies do.</summary>
    public static Task DirectResponseAsync(HttpContext context, ProxyRequestFeature feature, int status, byte[] body) =>
        WriteAsync(context, feature, ResponseFlags.None, status, body);

    /// <summary>An allowed CORS preflight, answered by the proxy (Envoy's CORS filter).</summary>
    public static Task CorsPreflightAsync(HttpContext context, ProxyRequestFeature feature, CompiledCors cors, string origin)
    {
        cors.WritePreflight(context.Response, origin);
        return WriteAsync(context, feature, ResponseFlags.None, StatusCodes.Status200OK, []);
    }

    /// <summary>A request on a keep-alive connection of a listener the current config no longer has.</summary>
    public static Task ListenerDrainingAsync(HttpContext context, ProxyRequestFeature feature)
    {
        if (HttpProtocol.IsHttp11(context.Request.Protocol))
        {
            context.Response.Headers.Connection = "close";
        }

        return WriteAsync(context, feature, ResponseFlags.None, StatusCodes.Status503ServiceUnavailable, ListenerDraining);
    }

    /// <param name="grpcStatus">The grpc-status for a gRPC request, when not the one Envoy maps the HTTP status to.</param>
    private static Task WriteAsync(HttpContext context, ProxyRequestFeature feature, ResponseFlags flags, int status, byte[] body, int? grpcStatus = null)
    {
        feature.Flags |= flags;
        if (context.Response.HasStarted)
        {
            // Too late for a status: the only honest signal left is cutting the response short.
            context.Abort();
            return Task.CompletedTask;
        }

        if (GrpcProtocol.IsGrpc(context.Request))
        {
            return WriteGrpcAsync(context, grpcStatus ?? GrpcProtocol.FromHttpStatus(status), body);
        }

        context.Response.StatusCode = status;
        if (body.Length == 0)
        {
            return Task.CompletedTask;
        }

        context.Response.ContentType = "text/plain";
        context.Response.ContentLength = body.Length;
        return context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    /// <summary>
    /// Envoy answers a gRPC request's local reply the way gRPC clients read it: HTTP 200, a trailers-only response with
    /// the HTTP status mapped to grpc-status and the body text as grpc-message. Other headers set (Location) stay.
    /// </summary>
    private static Task WriteGrpcAsync(HttpContext context, int grpcStatus, byte[] body)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = GrpcProtocol.ContentType;
        response.Headers["grpc-status"] = grpcStatus.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (body.Length > 0)
        {
            response.Headers["grpc-message"] = GrpcProtocol.EncodeMessage(Encoding.UTF8.GetString(body));
        }

        return Task.CompletedTask;
    }
}
