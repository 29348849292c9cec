using System.Security.Cryptography;
using System.Text.Json;

namespace Bowline.Api.Xds;

/// <summary>
/// A config's version: the first 12 hex digits of SHA-256 over its parts' hashes, each part (listener, route table,
/// cluster) hashed alone as its push JSON. Hashing per part lets the control plane hash a part shared by many proxies
/// once, and lets a proxy that applied a delta check that it holds exactly the config the control plane meant.
/// Layout hashed: for each section in order (listeners, route tables, clusters) its element count (4 bytes, little
/// endian), then each element's SHA-256 (32 bytes) in config order; then, only when the config has a telemetry
/// section, the count 1 and that section's SHA-256.
/// </summary>
public static class ConfigVersion
{
    public const int HashBytes = 32;

    public static byte[] HashOf(Listener l) => SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(l, XdsJson.Default.Listener));
    public static byte[] HashOf(RouteTable t) => SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(t, XdsJson.Default.RouteTable));
    public static byte[] HashOf(Cluster c) => SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(c, XdsJson.Default.Cluster));

    public static byte[] HashOf(TelemetryConfig t) => SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(t, XdsJson.Default.TelemetryConfig));

    public static string Of(ProxyConfig config)
    {
        var h = new Hasher();
        h.Section(config.Listeners.Length);
        foreach (var l in config.Listeners)
        {
            h.Append(HashOf(l));
        }

        h.Section(config.RouteTables.Length);
        foreach (var t in config.RouteTables)
        {
            h.Append(HashOf(t));
        }

        h.Section(config.Clusters.Length);
        foreach (var c in config.Clusters)
        {
            h.Append(HashOf(c));
        }

        // Telemetry is a fourth section only when present, so configs without it keep their versions.
        if (config.Telemetry is { } telemetry)
        {
            h.Section(1);
            h.Append(HashOf(telemetry));
        }

        return h.Finish();
    }

    /// <summary>Builds a version from part hashes already at hand (the layout above).</summary>
    public sealed class Hasher
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public void Section(int count)
        {
            Span<byte> n = stackalloc byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(n, count);
            _hash.AppendData(n);
        }

        public void Append(ReadOnlySpan<byte> partHash) => _hash.AppendData(partHash);

        public string Finish()
        {
            Span<byte> digest = stackalloc byte[HashBytes];
            _hash.GetHashAndReset(digest);
            _hash.Dispose();
            return Convert.ToHexStringLower(digest)[..12];
        }
    }
}
