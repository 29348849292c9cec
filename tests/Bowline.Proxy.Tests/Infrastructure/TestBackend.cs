using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Bowline.Proxy.Tests.Infrastructure;

/// <summary>
/// A tiny upstream app on a free loopback port. It answers every request with its name in "x-backend" and echoes
/// what it received ("x-seen-host", "x-seen-path", "x-seen-proto", request headers as "x-echo-*" when asked).
/// </summary>
internal sealed class TestBackend : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestBackend(WebApplication app, string name, int port)
    {
        _app = app;
        Name = name;
        Port = port;
    }

    public string Name { get; }
    public int Port { get; }

    public static async Task<TestBackend> StartAsync(string name, HttpProtocols protocols = HttpProtocols.Http1, Func<HttpContext, Task>? handler = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(o =>
        {
            o.Limits.MaxRequestBodySize = null;
            o.Listen(IPAddress.Loopback, 0, l => l.Protocols = protocols);
        });
        var app = builder.Build();
        app.Run(async context =>
        {
            context.Response.Headers["x-backend"] = name;
            context.Response.Headers["x-seen-host"] = context.Request.Host.Value;
            context.Response.Headers["x-seen-path"] = context.Request.Path.Value + context.Request.QueryString.Value;
            context.Response.Headers["x-seen-protocol"] = context.Request.Protocol;
            context.Response.Headers["x-seen-forwarded-proto"] = context.Request.Headers["x-forwarded-proto"].ToString();
            context.Response.Headers["x-seen-request-id"] = context.Request.Headers["x-request-id"].ToString();
            context.Response.Headers["x-seen-traceparent"] = context.Request.Headers["traceparent"].ToString();
            context.Response.Headers["x-seen-connection-header"] = context.Request.Headers["x-hop"].ToString();
            if (handler is not null)
            {
                await handler(context);
                return;
            }

            await context.Response.WriteAsync(name);
        });
        await app.StartAsync();
        var port = new Uri(app.Urls.First()).Port;
        return new TestBackend(app, name, port);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
