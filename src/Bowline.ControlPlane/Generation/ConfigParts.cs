using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Bowline.Api.Registry;
using Bowline.Api.Xds;

namespace Bowline.ControlPlane.Generation;

/// <summary>One listener, route table or cluster as pushed: its push JSON and that JSON's SHA-256. Shared, never mutated.</summary>
internal sealed class Part
{
    private Part(string name, byte[] json, Part[]? children)
    {
        Name = name;
        Json = json;
        Hash = SHA256.HashData(json);
        Children = children;
    }

    public string Name { get; }
    public byte[] Json { get; }
    public byte[] Hash { get; }
    /// <summary>A route table's virtual hosts as parts, so a delta can carry only the changed ones.</summary>
    public Part[]? Children { get; }

    public static Part Of<T>(string name, T value, JsonTypeInfo<T> info) => new(name, JsonSerializer.SerializeToUtf8Bytes(value, info), null);
    public static Part Of(Listener l) => Of(l.Name, l, XdsJson.Default.Listener);
    public static Part Of(RouteTable t) => new(t.Name, JsonSerializer.SerializeToUtf8Bytes(t, XdsJson.Default.RouteTable),
        [.. t.VirtualHosts.Select(vh => Of(vh.Name, vh, XdsJson.Default.VirtualHost))]);
    public static Part Of(Cluster c) => Of(c.Name, c, XdsJson.Default.Cluster);
    public static Part? Of(TelemetryConfig? t) => t is null ? null : Of("telemetry", t, XdsJson.Default.TelemetryConfig);

    public bool SameAs(Part other) => ReferenceEquals(this, other) || Hash.AsSpan().SequenceEqual(other.Hash);
}

/// <summary>
/// A proxy's config as parts, in push order (each section sorted by name, as <see cref="ProxyConfigGenerator"/> sorts).
/// Parts shared with other proxies are the same objects, so 2000 sidecars of one namespace hold one route table.
/// </summary>
internal sealed class ComposedConfig
{
    public ComposedConfig(Part[] listeners, Part[] routeTables, Part[] clusters, IReadOnlyList<string> notes,
        SharedSidecar? shared = null, Part[]? localClusters = null, Part? telemetry = null)
    {
        Telemetry = telemetry;
        Shared = shared;
        LocalClusters = localClusters ?? [];
        Listeners = listeners;
        RouteTables = routeTables;
        Clusters = clusters;
        Notes = notes;
        var h = new ConfigVersion.Hasher();
        AppendSection(h, listeners, null);
        AppendSection(h, routeTables, null);
        AppendSection(h, clusters, shared);
        if (telemetry is not null)
        {
            // As ConfigVersion.Of: a fourth section only when the config has telemetry.
            h.Section(1);
            h.Append(telemetry.Hash);
        }

        Version = h.Finish();
    }

    public string Version { get; }
    public Part[] Listeners { get; }
    public Part[] RouteTables { get; }
    public Part[] Clusters { get; }
    /// <summary>The telemetry section (always sent whole, in deltas too); null when the proxy has none.</summary>
    public Part? Telemetry { get; }
    public IReadOnlyList<string> Notes { get; }
    /// <summary>For a sidecar: the shared part (its route tables and outbound clusters) and the pod's own clusters.</summary>
    public SharedSidecar? Shared { get; }
    public Part[] LocalClusters { get; }

    /// <summary>
    /// Hashes a section's count and its parts' hashes in order. Calling the hasher per part (thousands per proxy, for
    /// every proxy of a push round) costs more than the hashing itself, and so did copying every hash into a fresh
    /// buffer per proxy: runs of the shared part's clusters (the same objects, in the same order) are hashed straight
    /// from its contiguous <see cref="SharedSidecar.ClusterHashes"/>; only the others go through a pooled buffer.
    /// The bytes hashed are the same either way.
    /// </summary>
    private static void AppendSection(ConfigVersion.Hasher h, Part[] section, SharedSidecar? shared)
    {
        h.Section(section.Length);
        var sharedParts = shared?.Clusters ?? [];
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, section.Length) * ConfigVersion.HashBytes);
        var pending = 0;
        var next = 0; // the shared part expected next: the merge keeps the shared clusters' order
        var k = 0;
        while (k < section.Length)
        {
            if (next < sharedParts.Length && ReferenceEquals(section[k], sharedParts[next]))
            {
                var start = next;
                while (k < section.Length && next < sharedParts.Length && ReferenceEquals(section[k], sharedParts[next]))
                {
                    k++;
                    next++;
                }

                h.Append(buffer.AsSpan(0, pending));
                pending = 0;
                h.Append(shared!.ClusterHashes.AsSpan(start * ConfigVersion.HashBytes, (next - start) * ConfigVersion.HashBytes));
                continue;
            }

            section[k++].Hash.CopyTo(buffer, pending);
            pending += ConfigVersion.HashBytes;
        }

        h.Append(buffer.AsSpan(0, pending));
        ArrayPool<byte>.Shared.Return(buffer);
    }

    public static ComposedConfig From(GeneratedConfig g) => new(
        [.. g.Config.Listeners.Select(Part.Of)], [.. g.Config.RouteTables.Select(Part.Of)], [.. g.Config.Clusters.Select(Part.Of)], g.Notes,
        telemetry: Part.Of(g.Config.Telemetry));
}

/// <summary>What a <c>ConfigDelta</c> carries from one composed config to the next (parts as pushed).</summary>
internal sealed record DeltaParts(
    Part[] Listeners, Part[] RouteTables, Part[] Clusters, (string Table, Part[] Hosts)[] VirtualHosts,
    string[] RemovedListeners, string[] RemovedRouteTables, string[] RemovedClusters)
{
    /// <summary>
    /// The delta from <paramref name="old"/> to <paramref name="next"/>, or null when one cannot be trusted (duplicate
    /// names). Sections are sorted by name, so a merge walk finds changes without dictionaries; shared parts are
    /// the same objects, so most comparisons end at a reference check.
    /// </summary>
    public static DeltaParts? Diff(ComposedConfig old, ComposedConfig next)
    {
        if (old.Shared is { } oldShared && next.Shared is { } newShared)
        {
            return WithShared(old, next, ReferenceEquals(oldShared, newShared) ? None : newShared.DeltaFrom(oldShared));
        }

        if (!Section(old.Listeners, next.Listeners, out var listeners, out var removedListeners)
            || !Section(old.Clusters, next.Clusters, out var clusters, out var removedClusters)
            || !Section(old.RouteTables, next.RouteTables, out var tables, out var removedTables))
        {
            return null;
        }

        var upsertTables = new List<Part>();
        var patches = new List<(string, Part[])>();
        foreach (var t in tables)
        {
            var before = Array.Find(old.RouteTables, o => o.Name == t.Name);
            if (before?.Children is { } oldHosts && t.Children is { } newHosts && SameNames(oldHosts, newHosts))
            {
                patches.Add((t.Name, [.. newHosts.Where((h, i) => !h.SameAs(oldHosts[i]))]));
            }
            else
            {
                upsertTables.Add(t);
            }
        }

        return new DeltaParts([.. listeners], [.. upsertTables], [.. clusters], [.. patches],
            [.. removedListeners], [.. removedTables], [.. removedClusters]);
    }

    private static readonly DeltaParts None = new([], [], [], [], [], [], []);

    /// <summary>A sidecar's delta: its own listeners and clusters compared here, the shared part's delta reused.</summary>
    private static DeltaParts? WithShared(ComposedConfig old, ComposedConfig next, DeltaParts? shared)
    {
        if (shared is null
            || !Section(old.Listeners, next.Listeners, out var listeners, out var removedListeners)
            || !Section(old.LocalClusters, next.LocalClusters, out var clusters, out var removedClusters))
        {
            return null;
        }

        // A name both removed (from one list) and upserted (in the other) ends up upserted: the proxy removes first.
        return shared with
        {
            Listeners = [.. listeners],
            Clusters = [.. clusters, .. shared.Clusters],
            RemovedListeners = [.. removedListeners],
            RemovedClusters = [.. removedClusters, .. shared.RemovedClusters],
        };
    }

    private static bool SameNames(Part[] a, Part[] b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < a.Length; i++)
        {
            if (a[i].Name != b[i].Name || !names.Add(a[i].Name))
            {
                return false; // moved, added, removed or duplicate hosts: the table goes whole
            }
        }

        return true;
    }

    private static bool Section(Part[] old, Part[] next, out List<Part> upserted, out List<string> removed)
    {
        upserted = [];
        removed = [];
        int i = 0, j = 0;
        while (i < old.Length || j < next.Length)
        {
            if ((i > 0 && i < old.Length && old[i].Name == old[i - 1].Name) || (j > 0 && j < next.Length && next[j].Name == next[j - 1].Name))
            {
                return false;
            }

            var c = i == old.Length ? 1 : j == next.Length ? -1 : string.CompareOrdinal(old[i].Name, next[j].Name);
            if (c < 0)
            {
                removed.Add(old[i++].Name);
            }
            else if (c > 0)
            {
                upserted.Add(next[j++]);
            }
            else
            {
                if (!next[j].SameAs(old[i]))
                {
                    upserted.Add(next[j]);
                }

                i++;
                j++;
            }
        }

        return true;
    }
}

/// <summary>
/// One (config, registry) generation pair seen by the push side: the <see cref="MeshModel"/> built once, and the
/// sidecar parts shared per <see cref="SidecarGenerator.SharedKey"/>, computed on first use. Immutable from outside;
/// the caches fill lock-free (a race computes a part twice, and one copy wins).
/// </summary>
internal sealed class MeshView(MeshModel mesh, (long Config, long Registry) stamp)
{
    private readonly ConcurrentDictionary<string, Lazy<SharedSidecar>> _shared = new(StringComparer.Ordinal);

    public MeshModel Mesh => mesh;
    public (long Config, long Registry) Stamp => stamp;

    public ComposedConfig Compose(LocalPod pod)
    {
        if (pod.Role == ProxyRole.Gateway)
        {
            return ComposedConfig.From(ProxyConfigGenerator.Generate(mesh, pod));
        }

        var shared = _shared.GetOrAdd(SidecarGenerator.SharedKey(mesh, pod),
            _ => new Lazy<SharedSidecar>(() => SharedSidecar.Build(mesh, pod))).Value;
        var local = LocalPartsOf(pod);
        var listenerParts = local.Listeners;
        var localClusters = local.Clusters;
        // Merge the pod's clusters into the shared sorted list; on equal names the pod's comes first, as a stable sort
        // of [inbound.., shared..] would order them.
        var clusters = new Part[localClusters.Length + shared.Clusters.Length];
        int i = 0, j = 0, k = 0;
        while (i < localClusters.Length || j < shared.Clusters.Length)
        {
            clusters[k++] = j == shared.Clusters.Length
                            || (i < localClusters.Length && string.CompareOrdinal(localClusters[i].Name, shared.Clusters[j].Name) <= 0)
                ? localClusters[i++]
                : shared.Clusters[j++];
        }

        return new ComposedConfig(listenerParts, [shared.Table], clusters, shared.Notes, shared, localClusters,
            Part.Of(TelemetryBuilder.Build(mesh, pod)));
    }

    /// <summary>
    /// The pod's own parts, reused across push rounds while the pod (the same registry object), the protocols of its
    /// ports, the services in front of them and its local rate limit (the only things the mesh decides about them) stay
    /// the same: serializing and hashing them for every proxy in every round was most of a round's cost.
    /// </summary>
    private LocalParts LocalPartsOf(LocalPod pod)
    {
        var protocols = pod.Ports.Select(p => (SidecarGenerator.InboundProtocol(mesh, pod, p), SidecarGenerator.InboundService(mesh, pod, p))).ToArray();
        var rateLimit = RateLimitBuilder.For(mesh.LocalRateLimits, pod).Listener;
        if (LocalCache.TryGetValue(pod, out var cached) && cached.Protocols.AsSpan().SequenceEqual(protocols) && cached.RateLimit == rateLimit)
        {
            return cached;
        }

        var (listeners, inbound) = SidecarGenerator.BuildLocal(mesh, pod);
        var fresh = new LocalParts(
            protocols,
            rateLimit,
            [.. listeners.OrderBy(l => l.Name, StringComparer.Ordinal).Select(Part.Of)],
            [.. inbound.OrderBy(c => c.Name, StringComparer.Ordinal).Select(Part.Of)]);
        LocalCache.AddOrUpdate(pod, fresh);
        return fresh;
    }

    private static readonly ConditionalWeakTable<LocalPod, LocalParts> LocalCache = [];

    private sealed record LocalParts((ServiceProtocol, string?)[] Protocols, LocalRateLimit? RateLimit, Part[] Listeners, Part[] Clusters);
}

/// <summary>The outbound route table and clusters shared by the sidecars of one <see cref="SidecarGenerator.SharedKey"/>.</summary>
internal sealed class SharedSidecar
{
    // Deltas from earlier shared parts, computed once for all the proxies that move from that one to this one. Weak
    // keys: an old shared part lives only as long as some proxy's ACKed config holds it.
    private readonly ConditionalWeakTable<SharedSidecar, Lazy<DeltaParts?>> _deltas = [];
    private readonly Part[] _clusters = [];

    public required Part Table { get; init; }
    public required Part[] Clusters
    {
        get => _clusters;
        init
        {
            _clusters = value;
            ClusterHashes = new byte[value.Length * ConfigVersion.HashBytes];
            for (var i = 0; i < value.Length; i++)
            {
                value[i].Hash.CopyTo(ClusterHashes, i * ConfigVersion.HashBytes);
            }
        }
    }

    /// <summary>The <see cref="Clusters"/>' hashes back to back, for composing versions without copying them per proxy.</summary>
    public byte[] ClusterHashes { get; private init; } = [];

    public required IReadOnlyList<string> Notes { get; init; }

    /// <summary>Route table and outbound cluster changes from <paramref name="old"/> (null: send whole).</summary>
    public DeltaParts? DeltaFrom(SharedSidecar old)
    {
        return _deltas.GetValue(old, o => new Lazy<DeltaParts?>(() => DeltaParts.Diff(
            new ComposedConfig([], [o.Table], o.Clusters, []), new ComposedConfig([], [Table], Clusters, [])))).Value;
    }

    public static SharedSidecar Build(MeshModel mesh, LocalPod pod)
    {
        var notes = new List<string>();
        var (table, clusters) = SidecarGenerator.BuildShared(mesh, pod, notes);
        return new SharedSidecar { Table = Part.Of(table), Clusters = [.. clusters.Select(Part.Of)], Notes = [.. notes.Distinct()] };
    }
}
