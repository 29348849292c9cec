using System.CommandLine;
using System.Text;
using System.Text.Json;
using Bowline.Cli.Mesh;

namespace Bowline.Cli.Status;

/// <summary><c>bowline proxy-config POD[.NS]</c>: the config the control plane computed for one proxy, as JSON.</summary>
internal static class ProxyConfigCommand
{
    public static Command Create(CliContext context)
    {
        var proxy = new Argument<string>("POD[.NS]") { Description = "The proxy: a pod name, optionally with its namespace" };
        var controlPlane = CommonOptions.ControlPlane();
        var command = new Command("proxy-config", "Print the config the control plane computed for a proxy") { proxy, controlPlane };
        command.SetAction((parse, cancel) =>
            RunAsync(parse.GetRequiredValue(proxy), parse.GetValue(controlPlane), context, cancel));
        return command;
    }

    public static async Task<int> RunAsync(string proxy, string? controlPlaneOption, CliContext context, CancellationToken cancel)
    {
        var baseAddress = ControlPlaneLocator.Locate(controlPlaneOption, context);
        if (baseAddress is null)
        {
            return 1;
        }
        using var client = new ControlPlaneClient(baseAddress);
        try
        {
            var id = await ResolveIdAsync(proxy, client, cancel);
            using var config = id is null ? null : await client.GetProxyConfigAsync(id, cancel);
            if (config is null)
            {
                context.Error.WriteLine($"error: no proxy {proxy}; see `bowline proxy-status`");
                return 1;
            }
            context.Out.WriteLine(Indented(config.RootElement));
            return 0;
        }
        catch (Exception e) when (e is HttpRequestException or ControlPlaneException or TaskCanceledException or JsonException)
        {
            context.Error.WriteLine($"error: control plane {baseAddress}: {e.Message}");
            return 1;
        }
    }

    private static string Indented(JsonElement json)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteTo(writer);
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>
    /// "pod.ns" is already an id. A bare pod name is looked up among the proxies, so the gateway
    /// ("istio-ingressgateway-0", in istio-system) does not need its namespace spelled out.
    /// </summary>
    private static async Task<string?> ResolveIdAsync(string proxy, ControlPlaneClient client, CancellationToken cancel)
    {
        if (proxy.Contains('.', StringComparison.Ordinal))
        {
            return proxy;
        }
        var matches = (await client.GetProxiesAsync(cancel)).Where(p => p.Name.StartsWith(proxy + ".", StringComparison.Ordinal)).ToList();
        return matches.Count == 1 ? matches[0].Name : proxy + ".default";
    }
}
