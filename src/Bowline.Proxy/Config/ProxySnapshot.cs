using System.Collections.Frozen;
using System.Net;
using Bowline.Api.Xds;

namespace Bowline.Proxy.Config;

/// <summary>
/// The config in use, immutable, published with one reference swap. Running listener servers find their listener by
/// server id, so a listener kept across configs picks up its new routes in the same swap.
/// </summary>
/// <param name="BoundEndpoints">Where each listener is bound, by listener name (port 0 in the config resolves here).</param>
internal sealed record ProxySnapshot(
    string Version,
    ProxyConfig Config,
    FrozenDictionary<int, CompiledListener> ListenersByServer,
    FrozenDictionary<string, IPEndPoint> BoundEndpoints);
