using Bowline.Proxy.Forwarding;
using Bowline.Proxy.LoadBalancing;
using Bowline.Proxy.Routing;
using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Pipeline;

/// <summary>
/// Envoy's fault filter: runs between routing and forwarding, so an injected delay is outside the route timeout and an
/// injected abort is never retried — both are the caller's proxy pretending the upstream misbehaved.
/// </summary>
internal sealed class FaultFilter(TimeProvider time, IRandomSource random)
{
    /// <summary>Delays (if drawn), then aborts (if drawn); true when the request is finished and must not be forwarded.</summary>
    public async Task<bool> ApplyAsync(HttpContext context, ProxyRequestFeature feature, CompiledFault fault)
    {
        if (fault.DrawDelay(random))
        {
            feature.Flags |= ResponseFlags.DelayInjected;
            try
            {
                // Timers may fire up to a tick of the OS timer early; an injected delay is never shorter than asked.
                var delay = fault.Delay!.Value;
                var started = time.GetTimestamp();
                for (var left = delay; left > TimeSpan.Zero; left = delay - time.GetElapsedTime(started))
                {
                    await Task.Delay(left, time, context.RequestAborted);
                }
            }
            catch (OperationCanceledException)
            {
                // The client gave up during the delay: nobody to answer, and the upstream must not see the request.
                feature.Flags |= ResponseFlags.DownstreamConnectionTermination;
                return true;
            }
        }

        if (!fault.DrawAbort(random))
        {
            return false;
        }

        await (fault.GrpcStatus is { } grpcStatus
            ? LocalReplies.GrpcFaultAbortAsync(context, feature, grpcStatus)
            : LocalReplies.FaultAbortAsync(context, feature, fault.HttpStatus!.Value));
        return true;
    }
}
