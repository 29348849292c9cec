using System.Collections.Immutable;

namespace Bowline.Api.Xds;

/// <summary>
/// The push protocol, modelled on xDS state-of-the-world: one WebSocket per proxy at <see cref="Path"/>,
/// each message one JSON text frame (see <see cref="XdsJson"/>).
/// <list type="number">
/// <item>The proxy connects and sends a <see cref="DiscoveryRequest"/> with <see cref="DiscoveryRequest.Node"/>,
/// its last applied version (null if none) and no nonce.</item>
/// <item>The control plane answers with a <see cref="DiscoveryResponse"/> whenever the proxy's config differs from
/// what the proxy last applied, and again on every later change that affects it: the whole config first on a stream
/// (and whenever in doubt), later a <see cref="ConfigDelta"/> from the config the proxy last ACKed on this stream.</item>
/// <item>The proxy answers every response with a request carrying that response's nonce: ACK
/// (<see cref="DiscoveryRequest.ErrorDetail"/> null, <see cref="DiscoveryRequest.VersionInfo"/> = the new version)
/// or NACK (ErrorDetail = the reason, VersionInfo = the version it still runs).</item>
/// </list>
/// A proxy that loses the stream keeps serving its last good config and reconnects with capped exponential backoff.
/// </summary>
public static class XdsProtocol
{
    public const string Path = "/xds/v1/stream";
}

public sealed record Node
{
    /// <summary>Unique proxy id: "{pod}.{namespace}", e.g. "reviews-v1-0.default", "istio-ingressgateway-0.istio-system".</summary>
    public required string Id { get; init; }
    public required string Pod { get; init; }
    public required string Namespace { get; init; }
}

public sealed record DiscoveryRequest
{
    public required Node Node { get; init; }
    /// <summary>The version the proxy runs now (null before its first config).</summary>
    public string? VersionInfo { get; init; }
    /// <summary>Nonce of the response this request answers; null on the first request of a stream.</summary>
    public string? ResponseNonce { get; init; }
    /// <summary>Set on a NACK: why the config was rejected.</summary>
    public string? ErrorDetail { get; init; }
}

/// <summary>
/// A config for the proxy: exactly one of <see cref="Config"/> (the whole config) and <see cref="Delta"/> (the changes
/// from the config of <see cref="ConfigDelta.BaseVersion"/>, the one the proxy last ACKed on this stream).
/// <see cref="Version"/> is always the version of the whole resulting config (<see cref="ConfigVersion"/>).
/// </summary>
public sealed record DiscoveryResponse
{
    public required string Version { get; init; }
    public required string Nonce { get; init; }
    public ProxyConfig? Config { get; init; }
    public ConfigDelta? Delta { get; init; }
}

/// <summary>
/// An incremental push. The proxy applies it onto the config of <see cref="BaseVersion"/>: removes the named parts,
/// puts each upserted listener/route table/cluster in place of the one with its name (or adds it), keeps every section
/// sorted by name (ordinal), replaces virtual hosts of a route table in place by name, then checks that the result's
/// <see cref="ConfigVersion"/> is the response's version. Any mismatch (another base, an unknown virtual host, another
/// version) is a NACK, and the control plane then sends the whole config.
/// </summary>
public sealed record ConfigDelta
{
    public required string BaseVersion { get; init; }
    public ImmutableArray<Listener> Listeners { get; init; } = [];
    public ImmutableArray<RouteTable> RouteTables { get; init; } = [];
    public ImmutableArray<Cluster> Clusters { get; init; } = [];
    public ImmutableArray<VirtualHostPatch> VirtualHosts { get; init; } = [];
    public ImmutableArray<string> RemovedListeners { get; init; } = [];
    public ImmutableArray<string> RemovedRouteTables { get; init; } = [];
    public ImmutableArray<string> RemovedClusters { get; init; } = [];

    // --- telemetry (access logs, tracing) ---
    /// <summary>The resulting config's whole telemetry section (small, so always carried); null = none.</summary>
    public TelemetryConfig? Telemetry { get; init; }

    /// <summary>The config this delta makes of <paramref name="base"/>, or an error saying why it does not apply.</summary>
    public (ProxyConfig? Config, string? Error) ApplyTo(ProxyConfig @base)
    {
        var tables = Upsert(@base.RouteTables, RemovedRouteTables, RouteTables, t => t.Name);
        foreach (var patch in VirtualHosts.IsDefault ? [] : VirtualHosts)
        {
            var i = tables.FindIndex(t => t.Name == patch.RouteTable);
            if (i < 0)
            {
                return (null, $"delta patches unknown route table {patch.RouteTable}");
            }

            var hosts = tables[i].VirtualHosts.ToList();
            foreach (var vh in patch.VirtualHosts.IsDefault ? [] : patch.VirtualHosts)
            {
                var j = hosts.FindIndex(h => h.Name == vh.Name);
                if (j < 0)
                {
                    return (null, $"delta patches unknown virtual host {vh.Name} of {patch.RouteTable}");
                }

                hosts[j] = vh;
            }

            tables[i] = tables[i] with { VirtualHosts = [.. hosts] };
        }

        return (new ProxyConfig
        {
            Listeners = [.. Upsert(@base.Listeners, RemovedListeners, Listeners, l => l.Name)],
            RouteTables = [.. tables],
            Clusters = [.. Upsert(@base.Clusters, RemovedClusters, Clusters, c => c.Name)],
            Telemetry = Telemetry,
        }, null);
    }

    private static List<T> Upsert<T>(ImmutableArray<T> current, ImmutableArray<string> removed, ImmutableArray<T> upserted, Func<T, string> name)
    {
        // A section absent from the JSON reads as a default (not empty) ImmutableArray.
        current = current.IsDefault ? [] : current;
        upserted = upserted.IsDefault ? [] : upserted;
        var gone = new HashSet<string>(removed.IsDefault ? [] : removed, StringComparer.Ordinal);
        var byName = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var u in upserted)
        {
            byName[name(u)] = u;
        }

        var result = new List<T>(current.Length + upserted.Length);
        foreach (var c in current)
        {
            if (!gone.Contains(name(c)) && !byName.ContainsKey(name(c)))
            {
                result.Add(c);
            }
        }

        result.AddRange(byName.Values);
        // Stable: sections are sorted by name on the control plane too.
        return [.. result.OrderBy(name, StringComparer.Ordinal)];
    }
}

/// <summary>Virtual hosts of one route table replaced in place (by name; order and the other hosts unchanged).</summary>
public sealed record VirtualHostPatch
{
    public required string RouteTable { get; init; }
    public ImmutableArray<VirtualHost> VirtualHosts { get; init; } = [];
}
