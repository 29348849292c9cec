using System.Text.Json.Serialization;

namespace Bowline.Proxy.Admin;

/// <summary>One local rate limit bucket's counters on the admin endpoint.</summary>
internal sealed record RateLimitCounters(string Scope, string Name, long Ok, long RateLimited);

/// <summary>Source-generated JSON for admin answers (the proxy may run as Native AOT).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(RateLimitCounters[]))]
internal sealed partial class AdminJson : JsonSerializerContext;
