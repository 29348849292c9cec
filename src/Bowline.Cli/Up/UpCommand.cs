using System.CommandLine;
using System.Runtime.InteropServices;

namespace Bowline.Cli.Up;

/// <summary><c>bowline up DIR</c>: run the mesh described by DIR's manifests until SIGINT/SIGTERM.</summary>
internal static class UpCommand
{
    public static Command Create(CliContext context)
    {
        var dir = new Argument<string>("DIR") { Description = "Folder whose top-level *.yaml/*.yml describe the mesh" };
        var gatewayPorts = new Option<GatewayPortMode>("--gateway-ports")
        {
            Description = "exact: gateway listeners bind the Gateway servers' ports; auto: each gets a free port",
            DefaultValueFactory = _ => GatewayPortMode.Exact,
            HelpName = "exact|auto",
        };
        var outboundPolicy = new Option<string?>("--outbound-traffic-policy")
        {
            Description = "Istio's meshConfig.outboundTrafficPolicy.mode for this mesh (default: DIR's mesh config, else ALLOW_ANY)",
            HelpName = "ALLOW_ANY|REGISTRY_ONLY",
        };
        outboundPolicy.AcceptOnlyFromAmong("ALLOW_ANY", "REGISTRY_ONLY");
        var noPrometheus = new Option<bool>("--no-prometheus")
        {
            Description = "Do not start Prometheus (by default up starts it when the prometheus binary is installed)",
        };
        var command = new Command("up", "Start the control plane, apps, sidecars and gateways described by DIR")
        {
            dir,
            gatewayPorts,
            outboundPolicy,
            noPrometheus,
        };
        command.SetAction(async (parse, _) =>
        {
            // Ctrl-C, SIGTERM and a closed terminal (SIGHUP) mean "stop the mesh": cancel the run instead of dying, so
            // every child gets stopped (they live in their own sessions and would otherwise outlive up).
            using var stop = new CancellationTokenSource();
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
            using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Cancel);
            var options = new UpOptions(parse.GetRequiredValue(dir), parse.GetValue(gatewayPorts))
            {
                OutboundTrafficPolicy = parse.GetValue(outboundPolicy),
                Prometheus = !parse.GetValue(noPrometheus),
            };
            return await new UpRunner(options, context).RunAsync(stop.Token);

            void Cancel(PosixSignalContext signal)
            {
                signal.Cancel = true;
                stop.Cancel();
            }
        });
        return command;
    }
}

internal sealed record UpOptions(string Directory, GatewayPortMode GatewayPorts)
{
    /// <summary>--outbound-traffic-policy: applied as Istio's mesh config ConfigMap; null leaves DIR's (or the default).</summary>
    public string? OutboundTrafficPolicy { get; init; }
    /// <summary>Start Prometheus when its binary is installed (the scrape config is written either way).</summary>
    public bool Prometheus { get; init; } = true;
}
