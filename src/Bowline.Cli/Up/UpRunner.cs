using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using Bowline.Api.Management;
using Bowline.Api.Registry;
using Bowline.Cli.Apply;
using Bowline.Cli.Files;
using Bowline.Cli.Mesh;

namespace Bowline.Cli.Up;

/// <summary>
/// The start-up order of contracts.md — builds, registry, control plane, apply, apps and proxies, readiness — and the
/// guarantee that whatever was started is stopped again, whether <c>up</c> fails halfway or is told to stop.
/// </summary>
internal sealed class UpRunner(UpOptions options, CliContext context)
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);

    // The JIT proxy's GC settings that only exist as environment variables (the AOT build compiles the same in; see
    // Bowline.Proxy.csproj and bench/README.md, "Tuning log"): a 4 MB gen0 budget, hex without 0x as both runtimes
    // read it. bench/bench.py starts its JIT proxies with the same.
    private static readonly KeyValuePair<string, string>[] JitProxyEnvironment = [new("DOTNET_GCgen0size", "400000")];
    private const int TailLines = 20;

    private readonly BowlineHome _home = context.Home;
    // Gateway server ports served with TLS, so the summary prints them as https://.
    private HashSet<int> _httpsPorts = [];

    public async Task<int> RunAsync(CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        if (MeshFile.ReadLive(_home) is { } running)
        {
            return Fail($"a mesh is already running (pid {running.Pid}); stop it first");
        }
        if (!Directory.Exists(options.Directory))
        {
            return Fail($"{options.Directory}: not a directory");
        }
        IReadOnlyList<ConfigFile> files;
        Manifests manifests;
        ConfigFile? meshConfig;
        try
        {
            files = ConfigFileLoader.Load([options.Directory]);
            manifests = ManifestReader.Read(files);
            meshConfig = options.OutboundTrafficPolicy is { } mode ? MeshPlanner.MeshConfigFile(mode, manifests) : null;
            _httpsPorts = [.. manifests.Gateways.SelectMany(g => g.HttpsPorts.IsDefault ? [] : g.HttpsPorts)];
        }
        catch (Exception e) when (e is ConfigFileException or ManifestException)
        {
            return Fail(e.Message);
        }
        var binaries = (Proxy: BinaryLocator.ProxyDll, ControlPlane: BinaryLocator.ControlPlaneDll);
        foreach (var dll in (string[])[binaries.Proxy, binaries.ControlPlane])
        {
            if (!File.Exists(dll))
            {
                return Fail($"{dll} not found (build the solution, or set BOWLINE_PROXY_DLL / BOWLINE_CONTROLPLANE_DLL)");
            }
        }
        foreach (var deployment in manifests.Deployments.Where(d => d.Command is null))
        {
            context.Error.WriteLine($"warning: deployment {deployment.Name}: no {ManifestReader.CommandAnnotation} annotation; only its sidecars run");
        }

        try
        {
            if (!await BuildRunner.RunAllAsync(manifests.Deployments, context, stop))
            {
                return 1;
            }
            MeshPlan plan;
            using (var ports = new PortAllocator())
            {
                plan = MeshPlanner.Plan(manifests, options.GatewayPorts, ports) with
                {
                    TcpGatewayPorts = [.. manifests.Gateways.SelectMany(g => g.TcpPorts)],
                };
            }
            if (options.GatewayPorts == GatewayPortMode.Exact
                && plan.Gateway.Pod.GatewayPorts.Keys.Where(p => !PortAllocator.IsFree(p)).ToList() is [_, ..] busy)
            {
                return Fail($"gateway port(s) {string.Join(", ", busy)} already in use on 127.0.0.1; free them or use --gateway-ports auto");
            }
            var ledger = new ProcessLedger(_home.ProcessLedgerFile);
            foreach (var (pid, name) in await ledger.StopSurvivorsAsync(StopGrace))
            {
                context.Error.WriteLine($"stopped {name} (pid {pid}), left running by an earlier up that did not stop cleanly");
            }
            ResetState();
            File.Delete(ledger.Path);
            plan.Registry.Write(_home.RegistryFile);

            await using var supervisor = new ProcessSupervisor(_home.LogsDir, ReportUnexpectedExit, ledger);
            List<ConfigFile> applied = [.. files];
            if (MeshPlanner.EgressGatewayServiceFile(plan, manifests) is { } egressService)
            {
                applied.Add(egressService);
            }

            if (meshConfig is not null)
            {
                applied.Add(meshConfig);
            }

            var result = await StartAsync(plan, applied, binaries, supervisor, clock, stop);
            if (result != 0)
            {
                return result;
            }
            try
            {
                await Task.Delay(Timeout.Infinite, stop);
            }
            catch (OperationCanceledException)
            {
                context.Out.WriteLine("stopping...");
            }
            return 0;
        }
        catch (Exception e) when (e is HttpRequestException or ControlPlaneException)
        {
            return Fail($"control plane: {e.Message}");
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            context.Error.WriteLine("interrupted; stopping everything");
            return 1;
        }
        finally
        {
            // Runs after the supervisor has stopped every child (its DisposeAsync), so mesh.json never names a dead mesh for long.
            MeshFile.DeleteIfOwned(_home, Environment.ProcessId);
        }
    }

    private async Task<int> StartAsync(
        MeshPlan plan,
        IReadOnlyList<ConfigFile> files,
        (string Proxy, string ControlPlane) binaries,
        ProcessSupervisor supervisor,
        Stopwatch clock,
        CancellationToken stop)
    {
        var dotnet = BinaryLocator.DotnetHost;
        var controlPlaneUrl = new Uri($"http://127.0.0.1:{plan.ControlPlanePort}");
        var controlPlane = supervisor.Start(
            "controlplane",
            dotnet,
            [binaries.ControlPlane, "--listen", $"127.0.0.1:{plan.ControlPlanePort}", "--state-dir", _home.StateDir]);
        using var client = new ControlPlaneClient(controlPlaneUrl);
        if (!await Readiness.WaitAsync(ct => client.IsReadyAsync(ct), [controlPlane], ReadyTimeout, stop))
        {
            return FailWithLogs("the control plane did not become ready", [controlPlane]);
        }

        var (accepted, applied) = await client.PostConfigAsync(ManagementApi.Apply, new ConfigFiles { Files = [.. files] }, stop);
        ResultPrinter.PrintProblems(applied, context);
        if (!accepted)
        {
            return Fail($"the control plane refused {options.Directory}");
        }

        // The AOT proxy when built and current, else the JIT one through the dotnet host.
        var nativeProxy = BinaryLocator.ProxyNative;
        var proxies = new List<(PlannedPod Pod, SupervisedProcess Process)>();
        foreach (var planned in plan.Pods)
        {
            if (planned.Deployment is { Command: { } command } deployment)
            {
                supervisor.Start(planned.Pod.Name, "/bin/sh", ["-c", "exec " + command], deployment.Folder, AppEnvironment(planned.Pod, deployment));
            }
            var name = planned.Pod.Role == ProxyRole.Gateway ? planned.Pod.Name : planned.Pod.Name + ".proxy";
            string[] proxyCommand = nativeProxy is null ? [binaries.Proxy] : [];
            proxies.Add((planned, supervisor.Start(name, nativeProxy ?? dotnet,
            [
                .. proxyCommand,
                "--id", planned.ProxyId,
                "--pod", planned.Pod.Name,
                "--namespace", planned.Pod.Namespace,
                "--xds", controlPlaneUrl.ToString().TrimEnd('/'),
                "--admin", $"127.0.0.1:{planned.Pod.AdminPort}",
            ], environment: nativeProxy is null ? JitProxyEnvironment : null)));
        }

        var notReady = await Readiness.WaitForProxiesAsync(proxies.Select(p => (p.Pod.Pod.AdminPort, p.Process)), ReadyTimeout, stop);
        if (notReady.Count > 0)
        {
            return FailWithLogs($"{notReady.Count} proxy(ies) did not become ready: {string.Join(", ", notReady.Select(p => p.Name))}", notReady);
        }

        var prometheus = await StartPrometheusAsync(plan, supervisor, stop);
        var gateway = plan.Gateway.Pod;
        MeshFile.Write(_home, new MeshInfo
        {
            ControlPlane = controlPlaneUrl.ToString().TrimEnd('/'),
            Pid = Environment.ProcessId,
            ControlPlanePid = controlPlane.Pid,
            StateDir = _home.StateDir,
            Gateways = [.. gateway.GatewayPorts.OrderBy(kv => kv.Key).Select(kv => new MeshGateway(kv.Key, $"127.0.0.1:{kv.Value}"))],
            Proxies = [.. proxies.Select(p => new MeshProxy(p.Pod.ProxyId, $"127.0.0.1:{p.Pod.Pod.AdminPort}"))],
            Prometheus = prometheus,
        });
        PrintSummary(plan, controlPlaneUrl, nativeProxy, prometheus, clock.Elapsed);
        return 0;
    }

    /// <summary>
    /// Writes the scrape config and, unless turned off or not installed, starts Prometheus on a free port; its URL, or
    /// null. A Prometheus that fails to start is reported and the mesh runs on without it.
    /// </summary>
    private async Task<string?> StartPrometheusAsync(MeshPlan plan, ProcessSupervisor supervisor, CancellationToken stop)
    {
        var dir = Path.Combine(_home.StateDir, "prometheus");
        var configFile = LocalPrometheus.WriteConfig(dir, plan.ControlPlanePort,
            plan.Pods.Select(p => (p.Pod.Name, p.Pod.Namespace, p.Pod.AdminPort)));
        if (!options.Prometheus || LocalPrometheus.Binary is not { } binary)
        {
            return null;
        }

        int port;
        using (var ports = new PortAllocator())
        {
            port = ports.Allocate();
        }

        var process = supervisor.Start("prometheus", binary, LocalPrometheus.Arguments(configFile, dir, port));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        if (!await Readiness.WaitAsync(ct => LocalPrometheus.IsReadyAsync(http, port, ct), [process], ReadyTimeout, stop))
        {
            context.Error.WriteLine($"warning: prometheus did not become ready; see {process.LogPath}");
            return null;
        }

        return $"http://127.0.0.1:{Text(port)}";
    }

    private static ImmutableDictionary<string, string> AppEnvironment(LocalPod pod, DeploymentManifest deployment)
    {
        var env = ImmutableDictionary.CreateBuilder<string, string>();
        foreach (var (key, value) in deployment.Env)
        {
            env[key] = value;
        }
        if (pod.Ports.FirstOrDefault() is { } first)
        {
            env["PORT"] = Text(first.AppPort);
        }
        foreach (var port in pod.Ports)
        {
            env[$"PORT_{Text(port.ContainerPort)}"] = Text(port.AppPort);
        }
        env["HTTP_PROXY"] = env["http_proxy"] = $"http://127.0.0.1:{Text(pod.OutboundPort)}";
        env["POD_NAME"] = pod.Name;
        env["POD_NAMESPACE"] = pod.Namespace;
        env["SERVICE_ACCOUNT"] = pod.ServiceAccount;
        return env.ToImmutable();
    }

    private void PrintSummary(MeshPlan plan, Uri controlPlane, string? nativeProxy, string? prometheus, TimeSpan elapsed)
    {
        var output = context.Out;
        output.WriteLine();
        foreach (var (serverPort, bound) in plan.Gateway.Pod.GatewayPorts.OrderBy(kv => kv.Key))
        {
            var scheme = _httpsPorts.Contains(serverPort) ? "https" : "http";
            var url = plan.TcpGatewayPorts.Contains(serverPort) ? $"tcp://127.0.0.1:{bound}" : $"{scheme}://127.0.0.1:{bound}/";
            output.WriteLine(serverPort == bound
                ? $"gateway        {url}"
                : $"gateway        {url}   (Gateway port {serverPort})");
        }
        output.WriteLine($"control plane  {controlPlane.ToString().TrimEnd('/')}");
        foreach (var pod in plan.Pods)
        {
            output.WriteLine($"proxy          {pod.ProxyId,-40} admin 127.0.0.1:{pod.Pod.AdminPort}");
        }
        if (nativeProxy is not null)
        {
            output.WriteLine($"proxy binary   {nativeProxy} (Native AOT)");
        }

        if (prometheus is not null)
        {
            output.WriteLine($"prometheus     {prometheus}/   (scrapes every proxy's /stats/prometheus every {LocalPrometheus.ScrapeInterval})");
        }

        output.WriteLine($"logs           {_home.LogsDir}");
        output.WriteLine();
        output.WriteLine($"ready in {elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s — Ctrl-C to stop");
    }

    private void ReportUnexpectedExit(SupervisedProcess child, int exitCode)
    {
        var lines = child.Tail(TailLines);
        lock (context.Error)
        {
            context.Error.WriteLine($"{child.Name} exited unexpectedly (exit code {exitCode}); last lines of {child.LogPath}:");
            foreach (var line in lines)
            {
                context.Error.WriteLine("  " + line);
            }
        }
    }

    private int FailWithLogs(string message, IEnumerable<SupervisedProcess> processes)
    {
        context.Error.WriteLine($"error: {message}");
        foreach (var process in processes)
        {
            context.Error.WriteLine($"--- last lines of {process.LogPath}:");
            foreach (var line in process.Tail(TailLines))
            {
                context.Error.WriteLine("  " + line);
            }
        }
        return 1;
    }

    private int Fail(string message)
    {
        context.Error.WriteLine($"error: {message}");
        return 1;
    }

    /// <summary>Every <c>up</c> starts from an empty state dir: no config store or logs from an earlier mesh.</summary>
    private void ResetState()
    {
        if (Directory.Exists(_home.StateDir))
        {
            Directory.Delete(_home.StateDir, recursive: true);
        }
        Directory.CreateDirectory(_home.LogsDir);
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
