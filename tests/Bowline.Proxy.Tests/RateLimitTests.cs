using System.Net;
using Bowline.Api.Xds;
using Bowline.Proxy.Config;
using Bowline.Proxy.Pipeline;
using Bowline.Proxy.RateLimit;
using Bowline.Proxy.Tests.Infrastructure;
using static Bowline.Proxy.Tests.Infrastructure.Configs;

namespace Bowline.Proxy.Tests;

/// <summary>Envoy's local rate limit: the token bucket on a fake clock, then through a real proxy.</summary>
public sealed class RateLimitTests
{
    private static LocalRateLimit Limit(long max, long perFill, TimeSpan interval) =>
        new() { Name = "test", MaxTokens = max, TokensPerFill = perFill, FillInterval = interval };

    private static int Take(TokenBucket bucket, int attempts) => Enumerable.Range(0, attempts).Count(_ => bucket.TryTake());

    [Fact]
    public void Bucket_StartsFull_ThenRefusesUntilTheNextFill()
    {
        var clock = new ManualTimeProvider();
        var bucket = new TokenBucket("b", Limit(4, 2, TimeSpan.FromSeconds(1)), clock);

        Assert.Equal(4, Take(bucket, 10));

        clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(bucket.TryTake());
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(2, Take(bucket, 10));
        Assert.Equal(6, bucket.Allowed);
        Assert.Equal(6 + 1 + 8, bucket.Limited);
    }

    [Fact]
    public void Bucket_MissedFillsAddUp_ButNeverBeyondMaxTokens()
    {
        var clock = new ManualTimeProvider();
        var bucket = new TokenBucket("b", Limit(5, 2, TimeSpan.FromSeconds(1)), clock);
        Assert.Equal(5, Take(bucket, 5));

        clock.Advance(TimeSpan.FromSeconds(2)); // two fills: 4 tokens
        Assert.Equal(4, Take(bucket, 10));

        clock.Advance(TimeSpan.FromDays(3)); // many fills: capped at 5
        Assert.Equal(5, Take(bucket, 10));
    }

    [Fact]
    public void Bucket_FillsAreOnIntervalBoundaries_NotRelativeToTheLastRequest()
    {
        var clock = new ManualTimeProvider();
        var bucket = new TokenBucket("b", Limit(1, 1, TimeSpan.FromSeconds(1)), clock);
        clock.Advance(TimeSpan.FromMilliseconds(900));
        Assert.True(bucket.TryTake());

        // 100 ms later the first interval ends and the fill arrives, as Envoy's fill timer would add it.
        clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.True(bucket.TryTake());
        Assert.False(bucket.TryTake());
    }

    [Fact]
    public async Task Bucket_ConcurrentTakers_GetExactlyMaxTokens()
    {
        var bucket = new TokenBucket("b", Limit(1000, 1, TimeSpan.FromHours(1)), new ManualTimeProvider());
        var taken = 0;
        using var start = new ManualResetEventSlim();
        var workers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            start.Wait();
            for (var i = 0; i < 1000; i++)
            {
                if (bucket.TryTake())
                {
                    Interlocked.Increment(ref taken);
                }
            }
        })).ToArray();

        start.Set();
        await Task.WhenAll(workers);

        Assert.Equal(1000, taken);
        Assert.Equal(1000, bucket.Allowed);
        Assert.Equal(3000, bucket.Limited);
    }

    [Theory]
    [InlineData(0, 1, 1000, "maxTokens")]
    [InlineData(1, 0, 1000, "tokensPerFill")]
    [InlineData(1, 1, 49, "fillInterval")]
    public void Compile_OutOfRangeLimit_IsRejected(long max, long perFill, int intervalMs, string field)
    {
        var config = ConfigOf([Outbound() with { RateLimit = Limit(max, perFill, TimeSpan.FromMilliseconds(intervalMs)) }],
            [Table("outbound", Host("svc", ["*"], Route("app")))], [Cluster("app", 1)]);

        var e = Assert.Throws<ConfigException>(() => ConfigCompiler.Compile(config));

        Assert.Contains(field, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inbound_OverTheLimit_Answers429WithFlagRLAndEnvoysHeader_AndTheAppNeverSeesIt()
    {
        var calls = 0;
        await using var backend = await TestBackend.StartAsync("app", handler: context =>
        {
            Interlocked.Increment(ref calls);
            return Task.CompletedTask;
        });
        var clock = new ManualTimeProvider();
        await using var proxy = new ProxyUnderTest(time: clock);
        await proxy.ApplyAsync(ConfigOf([Inbound("inbound|8080", "app") with { RateLimit = Limit(2, 2, TimeSpan.FromMinutes(1)) }],
            [], [Cluster("app", backend.Port)]));
        using var client = Clients.Direct();
        var url = $"http://{proxy.ListenerEndpoint("inbound|8080")}/";

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var r = await ProxyForwardingTests.SendAsync(client, url, $"in{i}");
            statuses.Add(r.StatusCode);
            if (i == 2)
            {
                Assert.Equal("true", ProxyForwardingTests.Header(r, "x-envoy-ratelimited"));
                Assert.Equal("local_rate_limited", await r.Content.ReadAsStringAsync());
            }
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal(ResponseFlags.RateLimited, await proxy.FlagsOfAsync("in2"));
        Assert.Equal("RL", ResponseFlags.RateLimited.ToShortString());
        Assert.Equal(2, Volatile.Read(ref calls));

        clock.Advance(TimeSpan.FromMinutes(1));
        using var refilled = await ProxyForwardingTests.SendAsync(client, url, "in3");
        Assert.Equal(HttpStatusCode.OK, refilled.StatusCode);
    }

    [Fact]
    public async Task RouteLimit_ReplacesTheListenersForItsRoute_OtherRoutesKeepTheListenersBucket()
    {
        await using var backend = await TestBackend.StartAsync("app");
        await using var proxy = new ProxyUnderTest(time: new ManualTimeProvider());
        var limited = Route("app", new RouteMatch { Uri = Prefix("/limited") }) with { Name = "limited", RateLimit = Limit(1, 1, TimeSpan.FromMinutes(1)) };
        var rest = Route("app") with { Name = "rest" };
        await proxy.ApplyAsync(ConfigOf([Outbound() with { RateLimit = Limit(3, 1, TimeSpan.FromMinutes(1)) }],
            [Table("outbound", Host("svc", ["*"], limited, rest))], [Cluster("app", backend.Port)]));
        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));

        async Task<int> OkCount(string path, int n)
        {
            var ok = 0;
            for (var i = 0; i < n; i++)
            {
                using var r = await client.GetAsync($"http://svc{path}");
                ok += r.StatusCode == HttpStatusCode.OK ? 1 : 0;
            }

            return ok;
        }

        Assert.Equal(1, await OkCount("/limited", 5));
        Assert.Equal(3, await OkCount("/other", 5));
        var counters = proxy.Manager.RateLimits.All().ToDictionary(b => b.Scope, b => (b.Bucket.Allowed, b.Bucket.Limited));
        Assert.Equal((1L, 4L), counters.Single(kv => kv.Key.StartsWith("route|", StringComparison.Ordinal)).Value);
        Assert.Equal((3L, 2L), counters["listener|outbound"]);
    }

    [Fact]
    public async Task Reapply_SameLimit_KeepsTheBucket_AChangedLimitStartsFull()
    {
        await using var backend = await TestBackend.StartAsync("app");
        await using var proxy = new ProxyUnderTest(time: new ManualTimeProvider());
        ProxyConfig WithLimit(long max) => ConfigOf([Outbound() with { RateLimit = Limit(max, 1, TimeSpan.FromMinutes(1)) }],
            [Table("outbound", Host("svc", ["*"], Route("app")))], [Cluster("app", backend.Port)]);
        await proxy.ApplyAsync(WithLimit(1));
        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        async Task<HttpStatusCode> GetAsync()
        {
            using var r = await client.GetAsync("http://svc/");
            return r.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await GetAsync());
        await proxy.ApplyAsync(WithLimit(1), "v2");
        Assert.Equal(HttpStatusCode.TooManyRequests, await GetAsync());

        await proxy.ApplyAsync(WithLimit(2), "v3");
        Assert.Equal(HttpStatusCode.OK, await GetAsync());
        Assert.Single(proxy.Manager.RateLimits.All());
    }
}
