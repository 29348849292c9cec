using Bowline.Api.Xds;

namespace Bowline.ControlPlane.Generation;

/// <summary>A proxy's computed config, its version, and notes about config it could not translate (logged once).</summary>
internal sealed record GeneratedConfig(ProxyConfig Config, string Version, IReadOnlyList<string> Notes);
