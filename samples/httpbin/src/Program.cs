using System.Net;
using Httpbin;

// httpbin, the HTTP request-and-response service Istio's tasks send traffic to, on http://127.0.0.1:$PORT
// (default 8080, httpbin's container port). Every answer carries x-httpbin-pod: the pod that served it.

var portText = Environment.GetEnvironmentVariable("PORT");
var port = 8080;
if (!string.IsNullOrEmpty(portText) && (!int.TryParse(portText, out port) || port is <= 0 or > 65535))
{
    Console.Error.WriteLine($"httpbin: invalid PORT '{portText}'");
    return 2;
}

var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    ApplicationName = typeof(Endpoints).Assembly.GetName().Name,
    ContentRootPath = AppContext.BaseDirectory,
});
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(console =>
{
    console.SingleLine = true;
    console.TimestampFormat = "HH:mm:ss ";
});
builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
builder.Logging.AddFilter("System", LogLevel.Warning);
builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(5));

var app = builder.Build();
Endpoints.Map(app, new PodInfo());
app.Lifetime.ApplicationStarted.Register(() => Console.WriteLine($"httpbin listening on http://127.0.0.1:{port}"));
app.Lifetime.ApplicationStopped.Register(() => Console.WriteLine("httpbin stopped"));
try
{
    await app.RunAsync();
}
catch (IOException e)
{
    // Most often the port is taken.
    Console.Error.WriteLine($"httpbin: {e.Message}");
    return 1;
}
return 0;
