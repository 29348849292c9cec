using Bowline.Api.Xds;

namespace Bowline.Proxy.Config;

/// <summary>A validated <see cref="ProxyConfig"/> with everything the request path needs precomputed.</summary>
internal sealed record CompiledConfig(ProxyConfig Source, IReadOnlyList<CompiledListener> Listeners);
