using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Bowline.Api.Management;

namespace Bowline.Cli.Mesh;

/// <summary>The control plane's management API (<see cref="ManagementApi"/>), as the CLI uses it.</summary>
internal sealed class ControlPlaneClient(Uri baseAddress) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };

    public Uri BaseAddress => baseAddress;

    /// <summary>POSTs to apply or delete; 200 and 400 both carry an <see cref="ApplyResult"/>.</summary>
    public async Task<(bool Accepted, ApplyResult Result)> PostConfigAsync(string path, ConfigFiles files, CancellationToken cancel)
    {
        using var response = await _http.PostAsJsonAsync(path, files, ManagementJson.Default.ConfigFiles, cancel);
        if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.BadRequest))
        {
            throw await UnexpectedAsync(response, cancel);
        }
        var result = await response.Content.ReadFromJsonAsync(ManagementJson.Default.ApplyResult, cancel)
            ?? throw new ControlPlaneException($"{path}: empty answer from the control plane");
        return (response.StatusCode == HttpStatusCode.OK, WithoutDefaults(result));
    }

    public async Task<ProxyStatus[]> GetProxiesAsync(CancellationToken cancel)
    {
        using var response = await _http.GetAsync(ManagementApi.Proxies, cancel);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw await UnexpectedAsync(response, cancel);
        }
        return await response.Content.ReadFromJsonAsync(ManagementJson.Default.ProxyStatusArray, cancel) ?? [];
    }

    /// <summary>The proxy's last computed config as the control plane's JSON, or null if no such proxy.</summary>
    public async Task<JsonDocument?> GetProxyConfigAsync(string proxyId, CancellationToken cancel)
    {
        using var response = await _http.GetAsync($"{ManagementApi.Proxies}/{Uri.EscapeDataString(proxyId)}/config", cancel);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw await UnexpectedAsync(response, cancel);
        }
        await using var body = await response.Content.ReadAsStreamAsync(cancel);
        return await JsonDocument.ParseAsync(body, cancellationToken: cancel);
    }

    public async Task<bool> IsReadyAsync(CancellationToken cancel)
    {
        try
        {
            using var response = await _http.GetAsync(ManagementApi.Ready, cancel);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>An array the server left out deserializes as a default ImmutableArray, which cannot be enumerated.</summary>
    private static ApplyResult WithoutDefaults(ApplyResult result) => result with
    {
        Changes = result.Changes.IsDefault ? [] : result.Changes,
        Warnings = result.Warnings.IsDefault ? [] : result.Warnings,
        Errors = result.Errors.IsDefault ? [] : result.Errors,
    };

    private static async Task<ControlPlaneException> UnexpectedAsync(HttpResponseMessage response, CancellationToken cancel)
    {
        var body = await response.Content.ReadAsStringAsync(cancel);
        return new ControlPlaneException(
            $"{response.RequestMessage?.RequestUri?.AbsolutePath}: control plane answered {(int)response.StatusCode} {response.ReasonPhrase}"
            + (body.Length > 0 ? $": {body.Trim()}" : ""));
    }
}

internal sealed class ControlPlaneException(string message) : Exception(message);
