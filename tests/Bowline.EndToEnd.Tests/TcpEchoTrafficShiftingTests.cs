using System.Net.Sockets;
using System.Text;
using Bowline.EndToEnd.Tests.Infrastructure;

namespace Bowline.EndToEnd.Tests;

/// <summary>
/// Istio's "TCP traffic shifting" task on samples/tcp-echo, run for real: `bowline up` (which applies
/// tcp-echo-all-v1.yaml with the rest of the folder), connections through the gateway's TCP listener, then
/// `bowline apply` of the 80/20 file and back.
/// </summary>
public sealed class TcpEchoTrafficShiftingTests
{
    private const int Connections = 200;
    private static readonly TimeSpan Resync = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task TcpEcho_AllV1_Then8020_Then_AllV1_ThroughTheGatewayTcpListener()
    {
        await using var mesh = await MeshProcess.StartAsync(Repo.Sample("tcp-echo"));
        var port = mesh.Gateway.Port;

        Assert.Equal(new Dictionary<string, int> { ["one"] = Connections }, await CountAsync(port));

        await ApplyAndSyncAsync(mesh, Path.Combine(Repo.Sample("tcp-echo"), "networking", "tcp-echo-20-v2.yaml"));
        var shifted = await CountAsync(port);

        // Binomial(200, 0.2): mean 40, sd ≈ 5.7, so [12, 68] is ±5 sd — a fair 80/20 split essentially never falls outside.
        Assert.Equal(["one", "two"], shifted.Keys.Order());
        Assert.InRange(shifted["two"], 12, 68);
        Assert.Equal(Connections, shifted["one"] + shifted["two"]);

        await ApplyAndSyncAsync(mesh, Path.Combine(Repo.Sample("tcp-echo"), "tcp-echo-all-v1.yaml"));
        Assert.Equal(new Dictionary<string, int> { ["one"] = Connections }, await CountAsync(port));
    }

    /// <summary>One connection per line, as Istio's task does with nc: send, half-close, read the answer to EOF.</summary>
    private static async Task<Dictionary<string, int>> CountAsync(int port)
    {
        var counts = new Dictionary<string, int>();
        for (var i = 0; i < Connections; i++)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync("127.0.0.1", port, cts.Token);
            await socket.SendAsync(Encoding.ASCII.GetBytes($"hello {i}\n"), SocketFlags.None, cts.Token);
            socket.Shutdown(SocketShutdown.Send);
            var answer = new StringBuilder();
            var buffer = new byte[256];
            int n;
            while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0)
            {
                answer.Append(Encoding.ASCII.GetString(buffer, 0, n));
            }

            var text = answer.ToString();
            Assert.EndsWith($" hello {i}\n", text);
            var version = text[..text.IndexOf(' ', StringComparison.Ordinal)];
            counts[version] = counts.GetValueOrDefault(version) + 1;
        }

        return counts;
    }

    private static async Task ApplyAndSyncAsync(MeshProcess mesh, string file)
    {
        var result = await mesh.CliAsync("apply", "-f", file);
        Assert.True(result.ExitCode == 0, result.ToString());
        await ProxyStatusReader.WaitAllAsync(mesh, "SYNCED", Resync);
    }
}
