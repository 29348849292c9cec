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
}
