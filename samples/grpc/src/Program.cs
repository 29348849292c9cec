using System.Net;
using GrpcDemo;
using Microsoft.AspNetCore.Server.Kestrel.Core;

// One executable, three roles (see GrpcDemo.csproj):
//   greeter   gRPC on $PORT_50051 (h2c, default 50051), WebSocket echo on $PORT_8080 (default 8080)
//   client    HTTP on $PORT (default 9080): GET /run makes every call through the sidecar named by HTTP_PROXY
//   call SIDECAR [GRPC_AUTHORITY [WS_AUTHORITY]]   the same calls once from a terminal, e.g. call 127.0.0.1:15001
var grpcAuthority = Environment.GetEnvironmentVariable("GREETER_GRPC") ?? "greeter:50051";
var webSocketAuthority = Environment.GetEnvironmentVariable("GREETER_WS") ?? "greeter:8080";
switch (args.FirstOrDefault())
{
    case "greeter":
        return await ServeAsync("greeter", Greeter.Map, (Port("PORT_50051", 50051), HttpProtocols.Http2), (Port("PORT_8080", 8080), HttpProtocols.Http1));
    case "client":
        return await ServeAsync("client", MapClient, (Port("PORT", 9080), HttpProtocols.Http1));
    case "call" when args.Length >= 2:
        using (var calls = new Calls(new Uri("http://" + args[1]), args.Length > 2 ? args[2] : grpcAuthority, args.Length > 3 ? args[3] : webSocketAuthority))
        {
            return await calls.RunAsync(Console.Out) ? 0 : 1;
        }

    default:
        Console.Error.WriteLine("usage: GrpcDemo greeter | client | call SIDECAR_HOST:PORT [GRPC_AUTHORITY [WS_AUTHORITY]]");
        return 2;
}

void MapClient(WebApplication app) => app.MapGet("/run", async (HttpContext context) =>
{
    // The sidecar is where HTTP_PROXY points; gRPC and WebSocket connect to it directly (see Calls).
    var proxy = Environment.GetEnvironmentVariable("HTTP_PROXY");
    if (string.IsNullOrEmpty(proxy))
    {
        context.Response.StatusCode = StatusCodes.Status500InternalServerError;
        await context.Response.WriteAsync("HTTP_PROXY is not set: no sidecar to call through\n");
        return;
    }

    using var calls = new Calls(new Uri(proxy), grpcAuthority, webSocketAuthority);
    var report = new StringWriter();
    var ok = await calls.RunAsync(report);
    context.Response.StatusCode = ok ? StatusCodes.Status200OK : StatusCodes.Status500InternalServerError;
    context.Response.ContentType = "text/plain";
    await context.Response.WriteAsync(report.ToString());
});

static int Port(string variable, int fallback) =>
    int.TryParse(Environment.GetEnvironmentVariable(variable), out var port) && port is > 0 and <= 65535 ? port : fallback;

static async Task<int> ServeAsync(string role, Action<WebApplication> map, params (int Port, HttpProtocols Protocols)[] listeners)
{
    var builder = WebApplication.CreateSlimBuilder();
    builder.WebHost.ConfigureKestrel(kestrel =>
    {
        foreach (var (port, protocols) in listeners)
        {
            kestrel.Listen(IPAddress.Loopback, port, l => l.Protocols = protocols);
        }
    });
    builder.Logging.ClearProviders();
    builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
    builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
    builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(5));
    var app = builder.Build();
    map(app);
    app.Lifetime.ApplicationStarted.Register(() => Console.WriteLine($"{role} listening on {string.Join(", ", listeners.Select(l => $"127.0.0.1:{l.Port} ({l.Protocols})"))}"));
    await app.RunAsync();
    return 0;
}
