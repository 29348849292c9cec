using Bowline.Api.Management;
using Bowline.Cli.Mesh;

namespace Bowline.Cli.Tests;

public sealed class CommandTests : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("bowline-cli-");
    private readonly StringWriter _out = new();
    private readonly StringWriter _err = new();

    private CliContext Context => new(_out, _err, new BowlineHome(Path.Combine(_temp.FullName, "home")));

    [Fact]
    public async Task ApplySendsEveryYamlFileOfADirectoryAndPrintsChangesAndWarnings()
    {
        await using var cp = await FakeControlPlane.StartAsync();
        cp.Result = new ApplyResult { Changes = ["gateway.networking.istio.io/bookinfo-gateway created"], Warnings = ["b.yml:3: hosts is *"] };
        var dir = Write("conf/b.yml", "kind: B") is var _ ? Path.Combine(_temp.FullName, "conf") : "";
        Write("conf/a.yaml", "kind: A");
        Write("conf/notes.txt", "ignored");

        var code = await RunAsync("apply", "-f", dir, "--control-plane", cp.Url.ToString());

        Assert.Equal(0, code);
        var (path, body) = Assert.Single(cp.Received);
        Assert.Equal(ManagementApi.Apply, path);
        Assert.Equal([Path.Join(dir, "a.yaml"), Path.Join(dir, "b.yml")], body.Files.Select(f => f.Name));
        Assert.Equal("kind: A", body.Files[0].Content);
        Assert.Equal("gateway.networking.istio.io/bookinfo-gateway created" + Environment.NewLine, _out.ToString());
        Assert.Contains("warning: b.yml:3: hosts is *", _err.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARefusedApplyPrintsEveryErrorAndExitsOne()
    {
        await using var cp = await FakeControlPlane.StartAsync();
        cp.Status = 400;
        cp.Result = new ApplyResult { Errors = ["vs.yaml:7: unknown field 'htp'", "vs.yaml:9: weights must sum to 100"] };
        var file = Write("vs.yaml", "kind: VirtualService");

        var code = await RunAsync("apply", "-f", file, "--control-plane", cp.Url.ToString());

        Assert.Equal(1, code);
        Assert.Equal(["vs.yaml:7: unknown field 'htp'", "vs.yaml:9: weights must sum to 100"], Lines(_err));
    }

    [Fact]
    public async Task DeleteFindsTheControlPlaneThroughMeshJson()
    {
        await using var cp = await FakeControlPlane.StartAsync();
        cp.Result = new ApplyResult { Changes = ["destinationrule.networking.istio.io/reviews deleted"] };
        MeshFile.Write(Context.Home, new MeshInfo { ControlPlane = cp.Url.ToString(), Pid = Environment.ProcessId, StateDir = "/x" });
        var file = Write("dr.yaml", "kind: DestinationRule");

        var code = await RunAsync("delete", "-f", file, "-f", file);

        Assert.Equal(0, code);
        var (path, body) = Assert.Single(cp.Received);
        Assert.Equal(ManagementApi.Delete, path);
        Assert.Equal(2, body.Files.Length);
        Assert.Equal(["destinationrule.networking.istio.io/reviews deleted"], Lines(_out));
    }

    [Fact]
    public async Task WithoutARunningMeshApplySaysSoAndExitsOne()
    {
        // A mesh.json whose `up` is gone is stale: pid of a process that has exited.
        using var gone = System.Diagnostics.Process.Start("true")!;
        await gone.WaitForExitAsync();
        MeshFile.Write(Context.Home, new MeshInfo { ControlPlane = "http://127.0.0.1:1", Pid = gone.Id, StateDir = "/x" });

        var code = await RunAsync("apply", "-f", Write("a.yaml", "kind: A"));

        Assert.Equal(1, code);
        Assert.Contains("no running mesh found", _err.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingFilesAreReportedBeforeContactingAnything()
    {
        var code = await RunAsync("apply", "-f", Path.Combine(_temp.FullName, "nope.yaml"), "--control-plane", "http://127.0.0.1:1");

        Assert.Equal(1, code);
        Assert.Contains("nope.yaml: no such file or directory", _err.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProxyStatusPrintsAnAlignedTableAndJson()
    {
        await using var cp = await FakeControlPlane.StartAsync();
        cp.Proxies =
        [
            new ProxyStatus { Name = "reviews-v1-0.default", Workload = "reviews-v1", Namespace = "default", Version = "0123456789ab", State = "SYNCED", Admin = "127.0.0.1:4001" },
            new ProxyStatus { Name = "istio-ingressgateway-0.istio-system", Workload = "istio-ingressgateway", Namespace = "istio-system", State = "DISCONNECTED", Admin = "127.0.0.1:4000" },
        ];

        Assert.Equal(0, await RunAsync("proxy-status", "--control-plane", cp.Url.ToString()));
        var lines = Lines(_out);
        Assert.Equal(3, lines.Length);
        Assert.Matches(@"^NAME\s{3,}WORKLOAD\s{3,}NAMESPACE\s{3,}VERSION\s{3,}STATE\s{3,}ADMIN$", lines[0]);
        Assert.StartsWith("istio-ingressgateway-0.istio-system   istio-ingressgateway   istio-system   -", lines[1], StringComparison.Ordinal);
        Assert.All(lines, l => Assert.Equal(lines[0].IndexOf("STATE", StringComparison.Ordinal), l.IndexOf(l.Contains("SYNCED", StringComparison.Ordinal) ? "SYNCED" : l.Contains("STATE", StringComparison.Ordinal) ? "STATE" : "DISCONNECTED", StringComparison.Ordinal)));

        _out.GetStringBuilder().Clear();
        Assert.Equal(0, await RunAsync("proxy-status", "-o", "json", "--control-plane", cp.Url.ToString()));
        using var json = System.Text.Json.JsonDocument.Parse(_out.ToString());
        var first = json.RootElement[0];
        Assert.Equal("istio-ingressgateway-0.istio-system", first.GetProperty("name").GetString());
        foreach (var field in (string[])["workload", "namespace", "state", "admin"])
        {
            Assert.True(first.TryGetProperty(field, out _), field);
        }
        Assert.Equal("0123456789ab", json.RootElement[1].GetProperty("version").GetString());
    }

    [Fact]
    public async Task ProxyConfigResolvesABarePodNameAndPrintsJson()
    {
        await using var cp = await FakeControlPlane.StartAsync();
        cp.Proxies = [new ProxyStatus { Name = "istio-ingressgateway-0.istio-system", Workload = "w", Namespace = "istio-system", State = "SYNCED", Admin = "a" }];

        Assert.Equal(0, await RunAsync("proxy-config", "istio-ingressgateway-0", "--control-plane", cp.Url.ToString()));
        Assert.Contains("\"proxy\": \"istio-ingressgateway-0.istio-system\"", _out.ToString(), StringComparison.Ordinal);

        Assert.Equal(1, await RunAsync("proxy-config", "nope.default", "--control-plane", cp.Url.ToString()));
        Assert.Contains("no proxy nope.default", _err.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_FileWithoutApiVersionOrName_ExitsOneWithLocatedErrors()
    {
        var file = Write("a.yaml", "kind: A");

        Assert.Equal(1, await RunAsync("validate", "-f", file));
        Assert.Contains($"{file}:1: apiVersion:", _err.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_ValidVirtualService_ExitsZeroAndCountsFiles()
    {
        var file = Write("vs.yaml", """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: reviews
            spec:
              hosts: [reviews]
              http:
              - route:
                - destination: {host: reviews}
            """);

        Assert.Equal(0, await RunAsync("validate", "-f", file));
        Assert.Contains("1 file(s) valid", _out.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownCommandsAndMissingOptionsPrintUsageAndExitTwo()
    {
        Assert.Equal(2, await RunAsync("frobnicate"));
        Assert.Contains("Usage:", _err.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, await RunAsync("apply"));
        Assert.Contains(" apply [options]", _err.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, await RunAsync("up", "dir", "--gateway-ports", "sometimes"));
    }

    [Fact]
    public async Task UpRefusesWhileAnotherMeshIsRunning()
    {
        MeshFile.Write(Context.Home, new MeshInfo { ControlPlane = "http://127.0.0.1:1", Pid = Environment.ProcessId, StateDir = "/x" });

        Assert.Equal(1, await RunAsync("up", _temp.FullName));
        Assert.Contains($"a mesh is already running (pid {Environment.ProcessId}); stop it first", _err.ToString(), StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Delete(recursive: true);

    private Task<int> RunAsync(params string[] args) => CliApp.RunAsync(args, Context);

    private string Write(string relative, string content)
    {
        var path = Path.Combine(_temp.FullName, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    private static string[] Lines(StringWriter writer) =>
        writer.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
}
