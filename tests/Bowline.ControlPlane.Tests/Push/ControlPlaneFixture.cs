using System.Net;
using System.Net.Http.Json;
using Bowline.Api.Management;
using Bowline.Api.Registry;
using Microsoft.Extensions.Logging;

namespace Bowline.ControlPlane.Tests.Push;

/// <summary>A real control plane on 127.0.0.1:0 with a temp state dir holding a registry file.</summary>
internal sealed class ControlPlaneFixture : IAsyncDisposable
{
    private readonly bool _ownsDir;

    private ControlPlaneFixture(string stateDir, RunningControlPlane cp, bool ownsDir)
    {
        StateDir = stateDir;
        Cp = cp;
        _ownsDir = ownsDir;
        Http = new HttpClient { BaseAddress = cp.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
    }

    public string StateDir { get; }
    public RunningControlPlane Cp { get; }
    public HttpClient Http { get; }
    public Uri BaseAddress => Cp.BaseAddress;

    public static string NewStateDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "bowline-cp-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static void WriteRegistry(string stateDir, IEnumerable<LocalPod> pods) =>
        new LocalRegistry { Pods = [.. pods] }.Write(Path.Combine(stateDir, "registry.json"));

    /// <summary>Starts on <paramref name="stateDir"/> (kept on dispose) or a fresh dir with the bookinfo registry (deleted).</summary>
    public static async Task<ControlPlaneFixture> StartAsync(string? stateDir = null, TimeSpan? debounce = null)
    {
        var owns = stateDir is null;
        if (stateDir is null)
        {
            stateDir = NewStateDir();
            WriteRegistry(stateDir, Bookinfo.Pods);
        }

        var cp = await ControlPlaneHost.StartAsync(
            new ControlPlaneOptions(new IPEndPoint(IPAddress.Loopback, 0), stateDir, debounce ?? TimeSpan.FromMilliseconds(100)),
            logging: l => l.ClearProviders());
        return new ControlPlaneFixture(stateDir, cp, owns);
    }

    public async Task<(HttpStatusCode Status, ApplyResult Result)> PostAsync(string path, params (string Name, string Content)[] files)
    {
        var body = new ConfigFiles { Files = [.. files.Select(f => new ConfigFile { Name = f.Name, Content = f.Content })] };
        using var response = await Http.PostAsJsonAsync(path, body, ManagementJson.Default.ConfigFiles);
        var result = await response.Content.ReadFromJsonAsync(ManagementJson.Default.ApplyResult);
        return (response.StatusCode, result!);
    }

    public Task<(HttpStatusCode Status, ApplyResult Result)> ApplyAsync(string yaml, string name = "config.yaml") =>
        PostAsync(ManagementApi.Apply, (name, yaml));

    public async Task<ProxyStatus> ProxyAsync(string id) =>
        (await Http.GetFromJsonAsync(ManagementApi.Proxies, ManagementJson.Default.ProxyStatusArray))!.Single(p => p.Name == id);

    public async Task<ResourceSummary[]> ResourcesAsync() =>
        (await Http.GetFromJsonAsync(ManagementApi.Resources, ManagementJson.Default.ResourceSummaryArray))!;

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Cp.DisposeAsync();
        if (_ownsDir)
        {
            DeleteDir(StateDir);
        }
    }

    public static void DeleteDir(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
