using System.Net;
using Bowline.Proxy.Tests.Infrastructure;
using static Bowline.Proxy.Tests.Infrastructure.Configs;

namespace Bowline.Proxy.Tests.Http1;

public sealed class Http1ClientKeepAliveTests
{
    [Fact]
    public async Task ManySequentialRequests_OneDownstreamConnection_AllAnsweredWithTheWholeBody()
    {
        await using var app = await TestBackend.StartAsync("app");
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(ConfigOf([Inbound("inbound|9080", "inbound|9080||")], [], [Cluster("inbound|9080||", app.Port)]));

        using var client = Clients.Direct();
        for (var i = 0; i < 50; i++)
        {
            using var response = await client.GetAsync(new Uri(proxy.ListenerUri("inbound|9080"), $"/n{i}"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("app", await response.Content.ReadAsStringAsync());
        }
    }

    [Theory]
    [InlineData(20_001)]
    [InlineData(1_000_000)]
    public async Task ContentLengthBodyLargerThanOneRead_ArrivesWholeAndTheRequestEnds(int size)
    {
        var body = new byte[size];
        new Random(size).NextBytes(body);
        await using var app = await TestBackend.StartAsync("app", handler: async context =>
        {
            context.Response.ContentLength = body.Length;
            // Written in pieces with flushes, so the proxy receives the body over several reads.
            for (var offset = 0; offset < body.Length; offset += 7_000)
            {
                await context.Response.Body.WriteAsync(body.AsMemory(offset, Math.Min(7_000, body.Length - offset)));
                await context.Response.Body.FlushAsync();
            }
        });
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(ConfigOf([Inbound("inbound|9080", "inbound|9080||")], [], [Cluster("inbound|9080||", app.Port)]));

        using var client = Clients.Direct();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        for (var i = 0; i < 2; i++)
        {
            using var response = await client.GetAsync(new Uri(proxy.ListenerUri("inbound|9080"), "/big"), timeout.Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(body, await response.Content.ReadAsByteArrayAsync(timeout.Token));
        }
    }
}
