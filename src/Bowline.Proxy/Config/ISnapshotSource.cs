namespace Bowline.Proxy.Config;

/// <summary>Where the request path reads the config in use (null before the first config).</summary>
internal interface ISnapshotSource
{
    ProxySnapshot? Current { get; }
}
