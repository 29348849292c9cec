using Microsoft.Extensions.Hosting;

namespace Bowline.Proxy.Xds;

/// <summary>Runs the xDS client for the lifetime of the process.</summary>
internal sealed class XdsService(XdsClient client) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => client.RunAsync(stoppingToken);
}
