using Bowline.Proxy.Pipeline;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Abstractions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Bowline.Proxy.Listeners;

/// <summary>The bridge from one Kestrel server to the proxy pipeline, without the generic host's middleware machinery.</summary>
internal sealed class ListenerApplication(int serverId, ProxyPipeline pipeline, IRequestObserver? observer, ILogger logger)
    : IHttpApplication<ListenerApplication.ConnectionContext>
{
    /// <summary>
    /// One per connection (an HTTP/1.1 connection, or a pooled HTTP/2 stream, which never changes connection): the
    /// HttpContext re-initialized for each request, as ASP.NET Core's own host does (three objects less per request),
    /// and what holds for the connection's whole life, looked up once instead of per request. Nothing may keep the
    /// context past <see cref="DisposeContext"/> (mirrors and access logs take what they need while the request runs).
    /// </summary>
    internal sealed class ConnectionContext(DefaultHttpContext http)
    {
        public DefaultHttpContext Http { get; } = http;

        /// <summary>Whether the proxy terminated TLS on this connection (a feature lookup that walks Kestrel's request and
        /// connection features when it misses, ~370 instructions on every plaintext request).</summary>
        public bool? DownstreamTls { get; set; }
    }

    public ConnectionContext CreateContext(IFeatureCollection contextFeatures)
    {
        if (contextFeatures is not IHostContextContainer<ConnectionContext> container)
        {
            return new ConnectionContext(new DefaultHttpContext(contextFeatures));
        }

        if (container.HostContext is { } reused)
        {
            reused.Http.Initialize(contextFeatures);
            return reused;
        }

        var created = new ConnectionContext(new DefaultHttpContext(contextFeatures));
        container.HostContext = created;
        return created;
    }

    public async Task ProcessRequestAsync(ConnectionContext connection)
    {
        var context = connection.Http;
        connection.DownstreamTls ??= Tls.DownstreamTls.Of(context);
        // Made here rather than in the pipeline: the observers get it without a feature lookup each.
        var feature = new ProxyRequestFeature
        {
            StartTimestamp = System.Diagnostics.Stopwatch.GetTimestamp(),
            StartTime = DateTime.UtcNow,
            DownstreamTls = connection.DownstreamTls.Value,
        };
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

    public void DisposeContext(ConnectionContext context, Exception? exception) => context.Http.Uninitialize();
}
