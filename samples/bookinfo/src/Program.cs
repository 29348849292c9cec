using System.Net;
using Bookinfo;

// One executable, four services, like Istio's bookinfo: the first argument picks the service.
//   dotnet bin/Bookinfo.dll productpage|details|reviews|ratings
// Listens on http://127.0.0.1:$PORT (default 9080).

var services = new Dictionary<string, Action<WebApplication>>(StringComparer.Ordinal)
{
    ["productpage"] = ProductPage.Map,
    ["details"] = Details.Map,
    ["reviews"] = Reviews.Map,
    ["ratings"] = Ratings.Map,
};

if (args.Length == 0 || !services.TryGetValue(args[0], out var map))
{
    Console.Error.WriteLine("usage: Bookinfo <productpage|details|reviews|ratings>");
    Console.Error.WriteLine("  env PORT (default 9080); outgoing calls go through HTTP_PROXY when it is set");
    return 2;
}

var service = args[0];
var portText = Environment.GetEnvironmentVariable("PORT");
var port = 9080;
if (!string.IsNullOrEmpty(portText) && (!int.TryParse(portText, out port) || port is <= 0 or > 65535))
{
    Console.Error.WriteLine($"{service}: invalid PORT '{portText}'");
    return 2;
}

var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args[1..],
    ApplicationName = typeof(ProductPage).Assembly.GetName().Name,
    ContentRootPath = AppContext.BaseDirectory,
});
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(console =>
{
    console.SingleLine = true;
    console.TimestampFormat = "HH:mm:ss ";
});
// Only the app's own start line and warnings: no per-request or lifetime chatter.
builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
builder.Logging.AddFilter("System", LogLevel.Warning);
builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(5));

var app = builder.Build();
map(app);
app.Lifetime.ApplicationStarted.Register(() => Console.WriteLine($"{service} listening on http://127.0.0.1:{port}"));
app.Lifetime.ApplicationStopped.Register(() => Console.WriteLine($"{service} stopped"));
try
{
    await app.RunAsync();
}
catch (IOException e)
{
    // Most often the port is taken.
    Console.Error.WriteLine($"{service}: {e.Message}");
    return 1;
}
return 0;
