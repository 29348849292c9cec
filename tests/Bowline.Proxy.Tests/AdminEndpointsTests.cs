using System.Net;
using System.Text.Json;
using Bowline.Proxy.Admin;
using Bowline.Proxy.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using static Bowline.Proxy.Tests.Infrastructure.Configs;

namespace Bowline.Proxy.Tests;

public sealed class AdminEndpointsTests
{
    [Fact]
    public async Task Ready_BeforeAndAfterFirstConfig_Is503ThenLiveWithConfigDump()
    {
        await using var proxy = new ProxyUnderTest();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0));
        await using var admin = builder.Build();
        admin.MapAdmin(proxy.Manager);
        await admin.StartAsync();
        using var client = Clients.Direct();
        client.BaseAddress = new Uri(admin.Urls.First());

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/ready")).StatusCode);

        await proxy.ApplyAsync(ConfigOf([Outbound()], [Table("outbound", Host("svc", ["*"], Route("c")))], [Cluster("c", 1)]), "0123456789ab");

        using var ready = await client.GetAsync("/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("LIVE", await ready.Content.ReadAsStringAsync());
        using var dump = JsonDocument.Parse(await client.GetStringAsync("/config_dump"));
        Assert.Equal("0123456789ab", dump.RootElement.GetProperty("version").GetString());
        Assert.Equal("outbound", dump.RootElement.GetProperty("config").GetProperty("listeners")[0].GetProperty("name").GetString());
        await admin.StopAsync();
    }
}
