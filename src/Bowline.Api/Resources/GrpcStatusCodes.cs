using System.Collections.Frozen;

namespace Bowline.Api.Resources;

/// <summary>gRPC's canonical status names (as VirtualService <c>fault.abort.grpcStatus</c> spells them) and their codes.</summary>
public static class GrpcStatusCodes
{
    private static readonly FrozenDictionary<string, int> ByName = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["OK"] = 0,
        ["CANCELLED"] = 1,
        ["UNKNOWN"] = 2,
        ["INVALID_ARGUMENT"] = 3,
        ["DEADLINE_EXCEEDED"] = 4,
        ["NOT_FOUND"] = 5,
        ["ALREADY_EXISTS"] = 6,
        ["PERMISSION_DENIED"] = 7,
        ["RESOURCE_EXHAUSTED"] = 8,
        ["FAILED_PRECONDITION"] = 9,
        ["ABORTED"] = 10,
        ["OUT_OF_RANGE"] = 11,
        ["UNIMPLEMENTED"] = 12,
        ["INTERNAL"] = 13,
        ["UNAVAILABLE"] = 14,
        ["DATA_LOSS"] = 15,
        ["UNAUTHENTICATED"] = 16,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The numeric code of a status name (case-sensitive, as Istio's validation is); false for an unknown name.</summary>
    public static bool TryGetCode(string name, out int code) => ByName.TryGetValue(name, out code);
}
