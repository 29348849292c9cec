using Bowline.Api.Xds;
using Bowline.Proxy;
using Bowline.Proxy.Admin;
using Bowline.Proxy.Config;
using Bowline.Proxy.Forwarding;
using Bowline.Proxy.Listeners;
using Bowline.Proxy.Pipeline;
using Bowline.Proxy.Telemetry;
using Bowline.Proxy.Telemetry.AccessLog;
using Bowline.Proxy.Telemetry.Tracing;
using Bowline.Proxy.LoadBalancing;
using Bowline.Proxy.Telemetry.Metrics;
using Bowline.Proxy.Xds;

RuntimeSettings.Apply();

ProxyArgs proxyArgs;
try
{
    proxyArgs = ProxyArgs.Parse(args);
}
catch (FormatException e)
{
    Console.Error.WriteLine($"Bowline.Proxy: {e.Message}");
    Console.Error.WriteLine(ProxyArgs.Usage);
    return 2;
}

// The admin endpoint is the process's host; listeners are separate Kestrel servers the ListenerManager owns.
// No appsettings.json reload: its file watcher watched the working directory and every directory below it (one inotify
// watch each: 522 for a proxy started in the repository, the whole tree under wherever `bowline up` runs).
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
{
    ContentRootPath = AppContext.BaseDirectory,
    Args = ["--hostBuilder:reloadConfigOnChange=false"],
});
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(o =>
{
    o.SingleLine = true;
    o.TimestampFormat = "HH:mm:ss.fff ";
});
builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
builder.WebHost.ConfigureKestrel(o => o.Listen(proxyArgs.Admin));

builder.Services.AddSingleton(TimeProvider.System);
// BOWLINE_UPSTREAM_CLIENT=httpclient sends plain HTTP/1.1 through HttpClient too, instead of Bowline's own client: a
// measurement / fallback knob (bench/README.md, "Tuning log").
var ownHttp1Client = !string.Equals(Environment.GetEnvironmentVariable("BOWLINE_UPSTREAM_CLIENT"), "httpclient", StringComparison.OrdinalIgnoreCase);
builder.Services.AddSingleton(sp => new Forwarder(UpstreamClient.Create(), sp.GetRequiredService<TimeProvider>(), SharedRandomSource.Instance, ownHttp1Client));
builder.Services.AddSingleton(sp => new ProxyMetrics(sp.GetRequiredService<TimeProvider>()));
// Access log and tracing read the config in use through the ListenerManager; the manager tells them (and the metrics)
// about requests.
ListenerManager? manager = null;
var snapshots = new DeferredSnapshotSource(() => manager);
var accessLog = new AccessLogObserver(snapshots);
var tracer = new Tracer(snapshots, proxyArgs.Id, proxyArgs.Namespace, new SpanExporter());
// BOWLINE_METRICS=off leaves out the per-request Istio metrics: a measurement / debug knob (bench/run --telemetry
// compares the proxy with telemetry on and off); metrics stay on by default, as in Istio.
var requestMetrics = !string.Equals(Environment.GetEnvironmentVariable("BOWLINE_METRICS"), "off", StringComparison.OrdinalIgnoreCase);
builder.Services.AddSingleton(sp => manager = new ListenerManager(
    sp.GetRequiredService<Forwarder>(), SharedRandomSource.Instance,
    CompositeRequestObserver.Of(tracer, requestMetrics ? new MetricsObserver(sp.GetRequiredService<ProxyMetrics>()) : null, accessLog), sp.GetRequiredService<ILoggerFactory>(),
    sp.GetRequiredService<TimeProvider>(), metrics: sp.GetRequiredService<ProxyMetrics>()));
builder.Services.AddSingleton<IConfigApplier>(sp => sp.GetRequiredService<ListenerManager>());
builder.Services.AddSingleton(new XdsClientOptions(proxyArgs.Xds, new Node { Id = proxyArgs.Id, Pod = proxyArgs.Pod, Namespace = proxyArgs.Namespace }));
builder.Services.AddSingleton<XdsClient>();
builder.Services.AddHostedService<XdsService>();

var app = builder.Build();
var listeners = app.Services.GetRequiredService<ListenerManager>();
app.MapAdmin(listeners, listeners.Egress, listeners.RateLimits, listeners.Metrics);
app.MapTelemetryStats(accessLog, tracer);

// Runs until SIGTERM / Ctrl-C; the container then disposes the ListenerManager, which drains every listener.
await app.RunAsync();

// Listeners have drained: write out the last log lines and spans (a hung collector gets two seconds, not more).
await accessLog.DisposeAsync();
try
{
    await tracer.Exporter.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(2));
}
catch (TimeoutException)
{
}

return 0;
