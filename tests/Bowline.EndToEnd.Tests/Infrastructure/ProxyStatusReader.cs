using System.Text.Json;

namespace Bowline.EndToEnd.Tests.Infrastructure;

internal sealed record ProxyRow(string Name, string Workload, string Namespace, string? Version, string State, string Admin);

/// <summary>Reads `bowline proxy-status -o json`, as a script of a user would.</summary>
internal static class ProxyStatusReader
{
    public static async Task<IReadOnlyList<ProxyRow>> ReadAsync(MeshProcess mesh) =>
        await TryReadAsync(mesh) ?? throw new InvalidOperationException("bowline proxy-status failed");

    /// <summary>Null while the control plane cannot answer (e.g. restarting).</summary>
    private static async Task<IReadOnlyList<ProxyRow>?> TryReadAsync(MeshProcess mesh)
    {
        var result = await mesh.CliAsync("proxy-status", "-o", "json");
        if (result.ExitCode != 0)
        {
            return null;
        }

        using var doc = JsonDocument.Parse(result.Stdout);
        return doc.RootElement.EnumerateArray().Select(e => new ProxyRow(
            e.GetProperty("name").GetString()!,
            e.GetProperty("workload").GetString()!,
            e.GetProperty("namespace").GetString()!,
            e.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null,
            e.GetProperty("state").GetString()!,
            e.GetProperty("admin").GetString()!)).ToList();
    }

    public static Task<IReadOnlyList<ProxyRow>> WaitAllAsync(MeshProcess mesh, string state, TimeSpan timeout) =>
        Eventually.WaitAsync(async () =>
        {
            var rows = await TryReadAsync(mesh);
            return rows is not null && rows.Count > 0 && rows.All(r => r.State == state) ? rows : null;
        }, timeout, $"every proxy to be {state}");
}
