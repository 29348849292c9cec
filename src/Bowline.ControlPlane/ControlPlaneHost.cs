using Microsoft.Extensions.Logging.Console;
using Bowline.Api.Xds;
using Bowline.ControlPlane.Config;
using Bowline.ControlPlane.Management;
using Bowline.ControlPlane.Push;
using Bowline.ControlPlane.Registry;
using Bowline.ControlPlane.Telemetry;

namespace Bowline.ControlPlane;

/// <summary>
/// Builds the control plane: store and registry loaded before the server listens (so readiness means loaded),
/// the debounced pusher wired to both, and the HTTP + WebSocket endpoints. Tests build it in-process on port 0.
/// </summary>
internal static class ControlPlaneHost
{
    public static async Task<RunningControlPlane> StartAsync(ControlPlaneOptions options, TimeProvider? time = null,
        IConfigLoader? loader = null, Action<ILoggingBuilder>? logging = null)
    {
        time ??= TimeProvider.System;
        Directory.CreateDirectory(options.StateDir);
        // No appsettings.json reload: its file watcher watched the working directory and every directory below it.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(options.Listen);
            k.Limits.MaxRequestBodySize = BodyReader.MaxBytes + 1; // our reader answers 413 itself
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.FormatterName = ConciseConsoleFormatter.FormatterName)
            .AddConsoleFormatter<ConciseConsoleFormatter, ConsoleFormatterOptions>();
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        logging?.Invoke(builder.Logging);

        var app = builder.Build();
        var loggers = app.Services.GetRequiredService<ILoggerFactory>();
        var store = new ConfigStore(loader ?? new ApiConfigLoader(), new StoreFiles(Path.Combine(options.StateDir, "store")),
            loggers.CreateLogger<ConfigStore>());
        store.Load();
        var registry = new LocalFileRegistry(Path.Combine(options.StateDir, "registry.json"), time,
            loggers.CreateLogger<LocalFileRegistry>());
        registry.Start();
        var metrics = new ControlPlaneMetrics(time);
        var xds = new XdsServer(store, registry, loggers.CreateLogger<XdsServer>(), metrics);
        metrics.ConnectedProxies = () => xds.Connected;
        metrics.Resources = () => store.Current.Resources.Values.GroupBy(r => r.Resource.Kind).Select(g => (g.Key, g.Count()));
        store.Changed += metrics.Changed;
        registry.Changed += metrics.Changed;
        registry.Changed += metrics.RegistryChanged;
        var debouncer = new Debouncer(time, options.Debounce, options.MaxDebounce, xds.PushAllAsync, loggers.CreateLogger<Debouncer>());
        store.Changed += debouncer.Signal;
        registry.Changed += debouncer.Signal;
        debouncer.Start();

        var ready = new ReadinessFlag();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(15) });
        app.Map(XdsProtocol.Path, xds.HandleAsync);
        ManagementEndpoints.Map(app, store, xds, ready, metrics);

        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        lifetime.ApplicationStopping.Register(xds.Stop);
        lifetime.ApplicationStopped.Register(() =>
        {
            debouncer.DisposeAsync().AsTask().GetAwaiter().GetResult();
            registry.DisposeAsync().AsTask().GetAwaiter().GetResult();
            xds.Dispose();
        });

        await app.StartAsync();
        ready.Set();
        return new RunningControlPlane(app, store, registry, xds, metrics);
    }
}

/// <summary>A started control plane and its parts (tests look inside; Program just waits for shutdown).</summary>
internal sealed record RunningControlPlane(WebApplication App, ConfigStore Store, LocalFileRegistry Registry, XdsServer Xds, ControlPlaneMetrics Metrics)
    : IAsyncDisposable
{
    /// <summary>The bound address (port 0 resolved), e.g. "http://127.0.0.1:40123".</summary>
    public Uri BaseAddress => new(App.Urls.First());

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
