using Bowline.Proxy.Pipeline;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Abstractions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Bowline.Proxy.Listeners;

/// <summary>The bridge from one Kestrel server to the proxy pipeline, without the generic host's middleware machinery.</summary>
internal sealed class ListenerApplication(int serverId, ProxyPipeline pipeline, IRequestObserver? observer, ILogger logger) : IHttpApplication<HttpContext>
{
    /// <summary>
    /// One HttpContext per connection, re-initialized for each request (as ASP.NET Core's own host does): three objects
    /// less per request. Nothing may keep the context past <see cref="DisposeContext"/> (mirrors and access logs take
    /// what they need while the request runs).
    /// </summary>
    public HttpContext CreateContext(IFeatureCollection contextFeatures)
    {
        if (contextFeatures is not IHostContextContainer<HttpContext> container)
        {
            return new DefaultHttpContext(contextFeatures);
        }

        if (container.HostContext is DefaultHttpContext reused)
        {
            reused.Initialize(contextFeatures);
            return reused;
        }

        var created = new DefaultHttpContext(contextFeatures);
        container.HostContext = created;
        return created;
    }

    public async Task ProcessRequestAsync(HttpContext context)
    {
        // Made here rather than in the pipeline: the observers get it without a feature lookup each.
        var feature = new ProxyRequestFeature { StartTimestamp = System.Diagnostics.Stopwatch.GetTimestamp(), StartTime = DateTime.UtcNow };
        try
        {
            await pipeline.HandleAsync(context, feature, serverId);
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

        observer?.OnRequestCompleted(context, feature);
    }

    public void DisposeContext(HttpContext context, Exception? exception)
    {
        if (context is DefaultHttpContext pooled)
        {
            pooled.Uninitialize();
        }
    }
}
