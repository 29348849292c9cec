using Bowline.Proxy.Pipeline;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Bowline.Proxy.Listeners;

/// <summary>The bridge from one Kestrel server to the proxy pipeline, without the generic host's middleware machinery.</summary>
internal sealed class ListenerApplication(int serverId, ProxyPipeline pipeline, IRequestObserver? observer, ILogger logger) : IHttpApplication<HttpContext>
{
    public HttpContext CreateContext(IFeatureCollection contextFeatures) => new DefaultHttpContext(contextFeatures);

    public async Task ProcessRequestAsync(HttpContext context)
    {
        try
        {
            await pipeline.HandleAsync(context, serverId);
        }
        catch (Exception e) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client left; nothing to answer and nothing wrong with the proxy.
            logger.LogDebug(e, "Request aborted by the client");
        }
        catch (Exception e)
        {
            // A bug or an unexpected upstream failure: answer 502 if still possible, never let Kestrel see it.
            logger.LogWarning(e, "Request failed");
            if (!context.Response.HasStarted)
            {
                context.Response.StatusCode = StatusCodes.Status502BadGateway;
            }
            else
            {
                context.Abort();
            }
        }

        observer?.OnRequestCompleted(context);
    }

    public void DisposeContext(HttpContext context, Exception? exception)
    {
    }
}
