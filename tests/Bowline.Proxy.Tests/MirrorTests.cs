using System.Collections.Concurrent;
using System.Net;
using Bowline.Api.Xds;
using Bowline.Proxy.LoadBalancing;
using Bowline.Proxy.Pipeline;
using Bowline.Proxy.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using static Bowline.Proxy.Tests.Infrastructure.Configs;

namespace Bowline.Proxy.Tests;

public sealed class MirrorTests
{
    private static ProxyConfig MirrorConfig(int v1Port, int v2Port, params MirrorPolicy[] mirrors) => ConfigOf(
        [Outbound()],
        [Table("outbound", Host("reviews", ["*"], Route("v1") with { Mirrors = [.. mirrors] }))],
        [Cluster("v1", v1Port), Cluster("v2", v2Port)]);

    private static MirrorPolicy ToV2(double percentage = 100) => new() { Cluster = "v2", Percentage = percentage };

    /// <summary>The mirror backend: records what each copy carried, optionally answering only once a gate opens.</summary>
    private sealed class Shadow(Task? gate = null)
    {
        public ConcurrentQueue<(string Method, string Host, string Body)> Received { get; } = new();

        public Task<TestBackend> StartAsync() => TestBackend.StartAsync("v2", handler: async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            if (gate is not null)
            {
                await gate.WaitAsync(context.RequestAborted);
            }

            Received.Enqueue((context.Request.Method, context.Request.Host.Value ?? "", body));
            await context.Response.WriteAsync("v2");
        });
    }

    [Fact]
    public async Task Mirror_ShadowThatHasNotAnswered_ClientGetsV1AndShadowGetsCopyWithShadowHost()
    {
        await using var v1 = await TestBackend.StartAsync("v1");
        // The shadow cannot answer until the client has its response: if the real request waited on the mirror,
        // it would hang here instead of passing (no wall-clock bound needed).
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var shadow = new Shadow(release.Task);
        await using var v2 = await shadow.StartAsync();
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(MirrorConfig(v1.Port, v2.Port, ToV2()));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        try
        {
            using var response = await ProxyForwardingTests.SendAsync(client, "http://reviews:9080/r/1", "m").WaitAsync(TimeSpan.FromSeconds(30));
            var body = await response.Content.ReadAsStringAsync();

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("v1", body);
            Assert.Equal("reviews:9080", ProxyForwardingTests.Header(response, "x-seen-host"));
            Assert.Empty(shadow.Received);
        }
        finally
        {
            release.TrySetResult();
        }

        var stats = proxy.Manager.Stats.For("v2");
        await Polling.UntilAsync(() => stats.MirrorSuccesses == 1);
        Assert.Equal(("GET", "reviews-shadow:9080", ""), Assert.Single(shadow.Received));
        Assert.Equal(0, stats.MirrorFailures);
    }

    [Fact]
    public async Task Mirror_Percent0_NeverMirrors()
    {
        await using var v1 = await TestBackend.StartAsync("v1");
        var shadow = new Shadow();
        await using var v2 = await shadow.StartAsync();
        // A random that would always pick "mirror" if it were asked: 0% must not even draw.
        await using var proxy = new ProxyUnderTest(new FixedRandomSource(0));
        await proxy.ApplyAsync(MirrorConfig(v1.Port, v2.Port, ToV2(0)));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        for (var i = 0; i < 20; i++)
        {
            using var response = await ProxyForwardingTests.SendAsync(client, "http://reviews/", $"m{i}");
            Assert.Equal("v1", await response.Content.ReadAsStringAsync());
        }

        var stats = proxy.Manager.Stats.For("v2");
        Assert.Equal(0, stats.MirrorSuccesses + stats.MirrorFailures);
        Assert.Empty(shadow.Received);
    }

    [Fact]
    public async Task Mirror_Percent50_Over200Requests_MirrorsTheSeededShare()
    {
        const int Seed = 1234;
        const int Requests = 200;
        await using var v1 = await TestBackend.StartAsync("v1");
        var shadow = new Shadow();
        await using var v2 = await shadow.StartAsync();
        await using var proxy = new ProxyUnderTest(new SeededRandomSource(Seed));
        await proxy.ApplyAsync(MirrorConfig(v1.Port, v2.Port, ToV2(50)));

        // The mirror's draw is the only one on this path (one destination, one endpoint), so the same seed predicts it.
        var replay = new SeededRandomSource(Seed);
        var expected = Enumerable.Range(0, Requests).Count(_ => replay.Next(1_000_000) < 500_000);

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        for (var i = 0; i < Requests; i++)
        {
            using var response = await ProxyForwardingTests.SendAsync(client, "http://reviews/", $"m{i}");
            Assert.Equal("v1", await response.Content.ReadAsStringAsync());
        }

        var stats = proxy.Manager.Stats.For("v2");
        await Polling.UntilAsync(() => stats.MirrorSuccesses == expected);
        Assert.InRange(expected, 70, 130);
        Assert.Equal(expected, shadow.Received.Count);
        Assert.Equal(0, stats.MirrorFailures);
    }

    [Fact]
    public async Task Mirror_RefusedConnection_DoesNotAffectTheRealResponseAndIsCounted()
    {
        await using var v1 = await TestBackend.StartAsync("v1");
        await using var proxy = new ProxyUnderTest();
        using var refused = FreePort.Refused();
        await proxy.ApplyAsync(MirrorConfig(v1.Port, refused.Port, ToV2()));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var response = await ProxyForwardingTests.SendAsync(client, "http://reviews/", "m");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("v1", await response.Content.ReadAsStringAsync());
        Assert.Equal(ResponseFlags.None, await proxy.FlagsOfAsync("m"));
        var stats = proxy.Manager.Stats.For("v2");
        await Polling.UntilAsync(() => stats.MirrorFailures == 1);
        Assert.Equal(0, stats.MirrorSuccesses);
    }

    [Fact]
    public async Task Mirror_PostWithSmallBody_ShadowAndRealBothGetTheSameBody()
    {
        var realBody = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var v1 = await TestBackend.StartAsync("v1", handler: async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            realBody.TrySetResult(await reader.ReadToEndAsync(context.RequestAborted));
            await context.Response.WriteAsync("v1");
        });
        var shadow = new Shadow();
        await using var v2 = await shadow.StartAsync();
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(MirrorConfig(v1.Port, v2.Port, ToV2()));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var request = new HttpRequestMessage(HttpMethod.Post, "http://reviews:9080/submit") { Content = new StringContent("{\"stars\":5}") };
        using var response = await client.SendAsync(request);

        Assert.Equal("v1", await response.Content.ReadAsStringAsync());
        Assert.Equal("{\"stars\":5}", await realBody.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        await Polling.UntilAsync(() => !shadow.Received.IsEmpty);
        Assert.Equal(("POST", "reviews-shadow:9080", "{\"stars\":5}"), Assert.Single(shadow.Received));
    }

    [Fact]
    public async Task Mirror_ChunkedBody_IsForwardedButNotMirrored()
    {
        var realBody = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var v1 = await TestBackend.StartAsync("v1", handler: async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            realBody.TrySetResult(await reader.ReadToEndAsync(context.RequestAborted));
            await context.Response.WriteAsync("v1");
        });
        var shadow = new Shadow();
        await using var v2 = await shadow.StartAsync();
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(MirrorConfig(v1.Port, v2.Port, ToV2()));

        using var client = Clients.ViaProxy(proxy.ListenerUri("outbound"));
        using var content = new StreamContent(new MemoryStream("streamed"u8.ToArray()));
        using var request = new HttpRequestMessage(HttpMethod.Post, "http://reviews/upload") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using var response = await client.SendAsync(request);

        Assert.Equal("v1", await response.Content.ReadAsStringAsync());
        Assert.Equal("streamed", await realBody.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        var stats = proxy.Manager.Stats.For("v2");
        Assert.Equal(0, stats.MirrorSuccesses + stats.MirrorFailures);
        Assert.Empty(shadow.Received);
    }

    [Theory]
    [InlineData("reviews:9080", "reviews-shadow:9080")]
    [InlineData("reviews", "reviews-shadow")]
    [InlineData("[::1]:8080", "[::1]-shadow:8080")]
    [InlineData("[::1]", "[::1]-shadow")]
    public void ShadowAuthority_AppendsToTheHostPart(string authority, string expected) =>
        Assert.Equal(expected, MirrorFilter.ShadowAuthority(authority));
}
