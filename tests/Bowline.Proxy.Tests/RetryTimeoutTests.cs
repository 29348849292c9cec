using System.Diagnostics;
using System.Net;
using Bowline.Api.Xds;
using Bowline.Proxy.Forwarding;
using Bowline.Proxy.Pipeline;
using Bowline.Proxy.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using static Bowline.Proxy.Tests.Infrastructure.Configs;

namespace Bowline.Proxy.Tests;

public sealed class RetryTimeoutTests
{
    // Istio's default policy, as the control plane sends it for a route without retries.
    private static readonly RetryPolicy IstioDefault = new()
    {
        Attempts = 2,
        RetryOn = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes",
        RetriableStatusCodes = [503],
    };

    private static ProxyConfig OneRoute(Route route, Cluster cluster) => ConfigOf([Outbound()], [Table("outbound", Host("svc", ["*"], route))], [cluster]);

    /// <summary>A backend whose n-th call (1-based) is handled by <paramref name="byCall"/>.</summary>
    private sealed class Scripted
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public Task<TestBackend> StartAsync(Func<int, HttpContext, Task> byCall, HttpProtocols protocols = HttpProtocols.Http1) =>
            TestBackend.StartAsync("app", protocols, context => byCall(Interlocked.Increment(ref _calls), context));
    }

    private static Task Hang(HttpContext c) => Task.Delay(Timeout.Infinite, c.RequestAborted);

    private static async Task Answer(HttpContext c, int status)
    {
        c.Response.StatusCode = status;
        await c.Response.WriteAsync(status.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task TimeoutHeader_StricterThanRouteTimeout_Returns504UT()
    {
        var backend = new Scripted();
        await using var app = await backend.StartAsync((_, c) => Hang(c));
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(OneRoute(Route("app") with { Timeout = TimeSpan.FromSeconds(30) }, Cluster("app", app.Port)));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://svc/");
        request.Headers.Add("x-test-id", "ut");
        request.Headers.Add(Forwarder.TimeoutHeader, "150");
        var watch = Stopwatch.StartNew();
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal(ResponseFlags.UpstreamRequestTimeout, await proxy.FlagsOfAsync("ut"));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task TimeoutHeader_ConsumedByTheProxy_NotForwarded()
    {
        await using var app = await TestBackend.StartAsync("app", handler: c => c.Response.WriteAsync(c.Request.Headers[Forwarder.TimeoutHeader].ToString()));
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(OneRoute(Route("app"), Cluster("app", app.Port)));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://svc/");
        request.Headers.Add(Forwarder.TimeoutHeader, "5000");
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
    }

    private static async Task<int> FailuresOf10Async(RetryPolicy? retries)
    {
        // Every other call fails: 503 on odd calls, 200 on even ones.
        var backend = new Scripted();
        await using var app = await backend.StartAsync((n, c) => Answer(c, n % 2 == 1 ? 503 : 200));
        await using var proxy = new ProxyUnderTest(new FixedRandomSource(0));
        await proxy.ApplyAsync(OneRoute(Route("app") with { Retries = retries }, Cluster("app", app.Port)));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        var failures = 0;
        for (var i = 0; i < 10; i++)
        {
            using var response = await client.GetAsync("http://svc/");
            failures += response.StatusCode == HttpStatusCode.OK ? 0 : 1;
        }

        return failures;
    }

    [Fact]
    public async Task Retries_IstioDefaultPolicy_MaskAnUpstreamFailingEveryOtherRequest() =>
        Assert.Equal(0, await FailuresOf10Async(IstioDefault));

    [Fact]
    public async Task Retries_None_FailuresOfTheUpstreamShow() =>
        Assert.Equal(5, await FailuresOf10Async(null));

    [Fact]
    public async Task Retries_Exhausted_CountedPerClusterWithFlagURX()
    {
        var backend = new Scripted();
        await using var app = await backend.StartAsync((_, c) => Answer(c, 503));
        await using var proxy = new ProxyUnderTest(new FixedRandomSource(0));
        await proxy.ApplyAsync(OneRoute(Route("app") with { Retries = IstioDefault }, Cluster("app", app.Port)));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var response = await ProxyForwardingTests.SendAsync(client, "http://svc/", "urx");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(ResponseFlags.UpstreamRetryLimitExceeded, await proxy.FlagsOfAsync("urx"));
        Assert.Equal(3, backend.Calls);
        Assert.Equal(2, proxy.Manager.Stats.Find("app")!.Retries);
    }

    [Fact]
    public async Task Retries_RetriableStatusCodesHeader_AddsCodesForThisRequest()
    {
        var backend = new Scripted();
        await using var app = await backend.StartAsync((n, c) => Answer(c, n == 1 ? 418 : 200));
        await using var proxy = new ProxyUnderTest(new FixedRandomSource(0));
        await proxy.ApplyAsync(OneRoute(Route("app") with { Retries = IstioDefault }, Cluster("app", app.Port)));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://svc/");
        request.Headers.Add(Bowline.Proxy.Routing.CompiledRetryPolicy.RetriableStatusCodesHeader, "409,418");
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, backend.Calls);
    }

    [Fact]
    public async Task PerTryTimeout_FirstTryHangs_RetriedAndAnswered()
    {
        var backend = new Scripted();
        await using var app = await backend.StartAsync((n, c) => n == 1 ? Hang(c) : Answer(c, 200));
        await using var proxy = new ProxyUnderTest(new FixedRandomSource(0));
        var retries = new RetryPolicy { Attempts = 1, PerTryTimeout = TimeSpan.FromMilliseconds(150), RetryOn = "gateway-error" };
        await proxy.ApplyAsync(OneRoute(Route("app") with { Retries = retries }, Cluster("app", app.Port)));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var response = await client.GetAsync("http://svc/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, backend.Calls);
    }

    [Fact]
    public async Task RouteTimeout_CoversAllAttempts_Returns504UTBeforeRetriesRunOut()
    {
        var backend = new Scripted();
        await using var app = await backend.StartAsync((_, c) => Hang(c));
        await using var proxy = new ProxyUnderTest(new FixedRandomSource(0));
        // 10 tries of 200 ms would take 2 s; the 500 ms route timeout ends it during the third.
        var route = Route("app") with
        {
            Timeout = TimeSpan.FromMilliseconds(500),
            Retries = new RetryPolicy { Attempts = 9, PerTryTimeout = TimeSpan.FromMilliseconds(200), RetryOn = "5xx" },
        };
        await proxy.ApplyAsync(OneRoute(route, Cluster("app", app.Port)));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var response = await ProxyForwardingTests.SendAsync(client, "http://svc/", "ut");

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal(ResponseFlags.UpstreamRequestTimeout, await proxy.FlagsOfAsync("ut"));
        Assert.InRange(backend.Calls, 1, 4);
    }

    [Fact]
    public async Task Retries_BodyBeyondTheRetryBuffer_NotRetried()
    {
        var backend = new Scripted();
        await using var app = await backend.StartAsync(async (_, c) =>
        {
            await c.Request.Body.CopyToAsync(Stream.Null);
            await Answer(c, 503);
        });
        await using var proxy = new ProxyUnderTest(new FixedRandomSource(0));
        await proxy.ApplyAsync(OneRoute(Route("app") with { Retries = IstioDefault }, Cluster("app", app.Port)));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var response = await client.PostAsync("http://svc/", new ByteArrayContent(new byte[RequestBodyReplay.Limit + 1]));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, backend.Calls);
    }

    [Fact]
    public async Task Retries_SmallBodyAlreadySent_ReplayedFromTheRetryBuffer()
    {
        var backend = new Scripted();
        var bodies = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var app = await backend.StartAsync(async (n, c) =>
        {
            using var reader = new StreamReader(c.Request.Body);
            bodies.Enqueue(await reader.ReadToEndAsync());
            await Answer(c, n == 1 ? 503 : 200);
        });
        await using var proxy = new ProxyUnderTest(new FixedRandomSource(0));
        await proxy.ApplyAsync(OneRoute(Route("app") with { Retries = IstioDefault }, Cluster("app", app.Port)));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var response = await client.PostAsync("http://svc/", new StringContent("payload"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["payload", "payload"], bodies);
    }

    [Fact]
    public async Task Retries_GrpcUnavailableTrailersOnly_Retried()
    {
        var backend = new Scripted();
        await using var app = await backend.StartAsync((n, c) =>
        {
            c.Response.ContentType = "application/grpc";
            c.Response.Headers["grpc-status"] = n == 1 ? "14" : "0";
            return Task.CompletedTask;
        }, HttpProtocols.Http2);
        await using var proxy = new ProxyUnderTest(new FixedRandomSource(0));
        await proxy.ApplyAsync(OneRoute(Route("app") with { Retries = IstioDefault }, Http2Cluster("app", app.Port)));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var response = await client.PostAsync("http://svc/pkg.Service/Method", null);

        Assert.Equal("0", ProxyForwardingTests.Header(response, "grpc-status"));
        Assert.Equal(2, backend.Calls);
    }

    [Fact]
    public async Task Backoff_InjectedClockAndRandom_RetryWaitsForTheDrawnDelay()
    {
        var time = new ManualTimeProvider();
        var backend = new Scripted();
        await using var app = await backend.StartAsync((n, c) => Answer(c, n == 1 ? 503 : 200));
        // The draw is 20 of the first window's 25 ms.
        await using var proxy = new ProxyUnderTest(new FixedRandomSource(20), time);
        await proxy.ApplyAsync(OneRoute(Route("app") with { Retries = IstioDefault }, Cluster("app", app.Port)));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        var pending = client.GetAsync("http://svc/");
        await Polling.UntilAsync(() => time.PendingTimers == 1);
        time.Advance(TimeSpan.FromMilliseconds(19));

        Assert.False(pending.IsCompleted);
        Assert.Equal(1, backend.Calls);

        time.Advance(TimeSpan.FromMilliseconds(1));
        using var response = await pending.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, backend.Calls);
    }

    [Theory]
    [InlineData(0, 24)]
    [InlineData(1, 49)]
    [InlineData(2, 99)]
    [InlineData(3, 199)]
    [InlineData(4, 249)]
    [InlineData(9, 249)]
    public void BackoffDelay_LargestDraw_ExponentialWindowCappedAt250ms(int attempt, int expectedMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), Forwarder.BackoffDelay(attempt, new FixedRandomSource(int.MaxValue)));

    [Fact]
    public void BackoffDelay_SmallestDraw_NoWait() =>
        Assert.Equal(TimeSpan.Zero, Forwarder.BackoffDelay(3, new FixedRandomSource(0)));
}
