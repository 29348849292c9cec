using System.Collections.Concurrent;
using Bowline.Api.Xds;
using Bowline.Proxy.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using static Bowline.Proxy.Tests.Infrastructure.Configs;

namespace Bowline.Proxy.Tests.Metrics;

/// <summary>
/// Two real proxies on real sockets, as in a mesh: productpage's sidecar (outbound) calls reviews' sidecar (inbound),
/// which hands the request to a backend app. Each proxy reports its side of the request.
/// </summary>
internal sealed class MetricsMesh : IAsyncDisposable
{
    public const string ReviewsService = "reviews.default.svc.cluster.local";
    public const string ReviewsCluster = "outbound|9080||" + ReviewsService;

    public static readonly WorkloadMetadata Productpage = new()
    {
        Name = "productpage-v1", Namespace = "default", App = "productpage", Version = "v1",
        CanonicalService = "productpage", CanonicalRevision = "v1", ServiceAccount = "bookinfo-productpage", Cluster = "Kubernetes",
    };

    public static readonly WorkloadMetadata Reviews = new()
    {
        Name = "reviews-v1", Namespace = "default", App = "reviews", Version = "v1",
        CanonicalService = "reviews", CanonicalRevision = "v1", ServiceAccount = "bookinfo-reviews", Cluster = "Kubernetes",
    };

    private readonly ConcurrentDictionary<string, IHeaderDictionary> _seen;

    private MetricsMesh(TestBackend app, ProxyUnderTest caller, ProxyUnderTest callee, ConcurrentDictionary<string, IHeaderDictionary> seen)
    {
        _seen = seen;
        App = app;
        Caller = caller;
        Callee = callee;
    }

    public TestBackend App { get; }
    public ProxyUnderTest Caller { get; }
    public ProxyUnderTest Callee { get; }

    /// <param name="grpc">The app is a gRPC server over h2c (both proxies' clusters speak HTTP/2): it reads the request's
    /// messages and answers two messages and grpc-status 5 in the trailers.</param>
    public static async Task<MetricsMesh> StartAsync(Func<Route, Route>? shapeRoute = null, bool grpc = false)
    {
        ConcurrentDictionary<string, IHeaderDictionary> seen = new();
        var app = await TestBackend.StartAsync("reviews", grpc ? Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2 : Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1, async context =>
        {
            seen[context.Request.Headers["x-test-id"].ToString()] = new HeaderDictionary(context.Request.Headers.ToDictionary(h => h.Key, h => h.Value));
            if (!grpc)
            {
                await context.Response.WriteAsync("reviews!");
                return;
            }

            await context.Request.Body.CopyToAsync(Stream.Null);
            context.Response.ContentType = "application/grpc";
            await context.Response.Body.WriteAsync(new byte[] { 0, 0, 0, 0, 2, 1, 2 });
            await context.Response.Body.FlushAsync();
            await context.Response.Body.WriteAsync(new byte[] { 0, 0, 0, 0, 1, 3 });
            context.Response.AppendTrailer("grpc-status", "5");
        });
        Func<string, int[], Cluster> cluster = grpc ? Http2Cluster : Cluster;
        var callee = new ProxyUnderTest();
        var caller = new ProxyUnderTest();
        try
        {
            await callee.ApplyAsync(ConfigOf(
                [Inbound("inbound|9080", "inbound|9080||") with { Workload = Reviews }],
                [],
                [cluster("inbound|9080||", [app.Port]) with { Service = ReviewsService }]));
            var inboundPort = callee.ListenerEndpoint("inbound|9080").Port;
            var route = Route(ReviewsCluster);
            await caller.ApplyAsync(ConfigOf(
                [Outbound() with { Workload = Productpage }],
                [Table("outbound", Host("reviews", ["*"], shapeRoute?.Invoke(route) ?? route))],
                [new Cluster
                {
                    Name = ReviewsCluster,
                    Protocol = grpc ? UpstreamProtocol.Http2 : UpstreamProtocol.Http1,
                    Service = ReviewsService,
                    Endpoints = [new Bowline.Api.Xds.Endpoint { Address = "127.0.0.1", Port = inboundPort, Pod = "reviews-v1-0", Workload = Reviews }],
                }]));
        }
        catch
        {
            await caller.DisposeAsync();
            await callee.DisposeAsync();
            await app.DisposeAsync();
            throw;
        }

        return new MetricsMesh(app, caller, callee, seen);
    }

    /// <summary>The request headers the app saw, by x-test-id.</summary>
    public IHeaderDictionary? AppSaw(string testId) => _seen.GetValueOrDefault(testId);

    /// <summary>Polls a proxy's exposition until a sample line of <paramref name="metric"/> has every label given; returns that line.</summary>
    public static async Task<string> SampleAsync(ProxyUnderTest proxy, string metric, params string[] labels)
    {
        string? found = null;
        await Polling.UntilAsync(() =>
        {
            found = Lines(proxy.Metrics.Render(), metric).FirstOrDefault(l => labels.All(l.Contains));
            return found is not null;
        });
        return found!;
    }

    public static IEnumerable<string> Lines(string exposition, string metric) =>
        exposition.Split('\n').Where(l => l.StartsWith(metric + "{", StringComparison.Ordinal) || l.StartsWith(metric + " ", StringComparison.Ordinal));

    public static double Value(string line) => double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        await Caller.DisposeAsync();
        await Callee.DisposeAsync();
        await App.DisposeAsync();
    }
}
