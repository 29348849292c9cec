using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bowline.Api.Xds;

/// <summary>Source-generated JSON for the push contract: camelCase, enums as strings, nulls omitted.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(DiscoveryRequest))]
[JsonSerializable(typeof(DiscoveryResponse))]
[JsonSerializable(typeof(ProxyConfig))]
[JsonSerializable(typeof(Listener))]
[JsonSerializable(typeof(RouteTable))]
[JsonSerializable(typeof(VirtualHost))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(Cluster))]
[JsonSerializable(typeof(TelemetryConfig))]
public sealed partial class XdsJson : JsonSerializerContext
{
    public static byte[] Serialize(DiscoveryResponse r) => JsonSerializer.SerializeToUtf8Bytes(r, Default.DiscoveryResponse);
    public static byte[] Serialize(DiscoveryRequest r) => JsonSerializer.SerializeToUtf8Bytes(r, Default.DiscoveryRequest);
    public static DiscoveryResponse? ReadResponse(ReadOnlySpan<byte> utf8) => JsonSerializer.Deserialize(utf8, Default.DiscoveryResponse);
    public static DiscoveryRequest? ReadRequest(ReadOnlySpan<byte> utf8) => JsonSerializer.Deserialize(utf8, Default.DiscoveryRequest);
}
