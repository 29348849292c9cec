using System.Collections.Concurrent;
using System.Net;
using Bowline.Api.Xds;
using Bowline.Proxy.Forwarding;
using Bowline.Proxy.Listeners;
using Bowline.Proxy.LoadBalancing;
using Bowline.Proxy.Pipeline;
using Bowline.Proxy.Telemetry.Metrics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bowline.Proxy.Tests.Infrastructure;

/// <summary>The proxy's listener manager on real sockets, recording every request's response flags.</summary>
internal sealed class ProxyUnderTest : IRequestObserver, IAsyncDisposable
{
    private readonly HttpMessageInvoker _upstream = UpstreamClient.Create();

    /// <param name="observers">Further observers (access log, tracing), given the manager's config in use.</param>
    public ProxyUnderTest(IRandomSource? random = null, TimeProvider? time = null, ListenerLimits? limits = null,
        Func<Config.ISnapshotSource, IRequestObserver[]>? observers = null)
    {
        time ??= TimeProvider.System;
        random ??= SharedRandomSource.Instance;
        var snapshots = new Bowline.Proxy.Telemetry.DeferredSnapshotSource(() => Manager);
        // Metrics observe next to this test's own observer, as they do next to access logs in the real proxy.
        Metrics = new ProxyMetrics(time);
        Manager = new ListenerManager(new Forwarder(_upstream, time, random), random,
            CompositeRequestObserver.Of([this, new MetricsObserver(Metrics), .. observers?.Invoke(snapshots) ?? []]), NullLoggerFactory.Instance, time, limits,
            metrics: Metrics);
    }

    public ListenerManager Manager { get; }

    public ProxyMetrics Metrics { get; }

    /// <summary>Response flags of finished requests, by their "x-test-id" request header.</summary>
    public ConcurrentDictionary<string, ResponseFlags> Flags { get; } = new();

    /// <summary>The cluster each finished request was reported against, by its "x-test-id" request header.</summary>
    public ConcurrentDictionary<string, string?> ClusterNames { get; } = new();

    public async Task ApplyAsync(ProxyConfig config, string version = "v1")
    {
        var error = await Manager.ApplyAsync(version, config, CancellationToken.None);
        Assert.Null(error);
    }

    public Uri ListenerUri(string name) => new($"http://{Manager.Current!.BoundEndpoints[name]}");

    public IPEndPoint ListenerEndpoint(string name) => Manager.Current!.BoundEndpoints[name];

    public void OnRequestCompleted(HttpContext context, ProxyRequestFeature feature)
    {
        var id = context.Request.Headers["x-test-id"].ToString();
        if (id.Length > 0)
        {
            ClusterNames[id] = feature.ClusterName;
            Flags[id] = feature.Flags;
        }
    }

    /// <summary>The flags of a request, waiting for its completion to be observed (it ends just after the response).</summary>
    public async Task<ResponseFlags> FlagsOfAsync(string testId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (Flags.TryGetValue(testId, out var flags))
            {
                return flags;
            }

            await Task.Delay(10);
        }

        throw new TimeoutException($"request {testId} never completed");
    }

    public async ValueTask DisposeAsync()
    {
        await Manager.DisposeAsync();
        _upstream.Dispose();
    }
}
