using Bowline.Proxy.Config;

namespace Bowline.Proxy.Telemetry;

/// <summary>The config in use of a snapshot source made later (observers exist before the manager that calls them).</summary>
internal sealed class DeferredSnapshotSource(Func<ISnapshotSource?> source) : ISnapshotSource
{
    public ProxySnapshot? Current => source()?.Current;
}
