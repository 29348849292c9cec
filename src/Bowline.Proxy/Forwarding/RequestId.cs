namespace Bowline.Proxy.Forwarding;

/// <summary>
/// x-request-id values: random (version 4) UUIDs, as Envoy generates them. Drawn from the thread's fast PRNG rather
/// than <see cref="Guid.NewGuid"/> (a getrandom call per request): the id correlates logs and traces, it is no secret.
/// </summary>
internal static class RequestId
{
    public static string New()
    {
        Span<byte> bytes = stackalloc byte[16];
        Random.Shared.NextBytes(bytes);

        // The Guid(bytes) layout is little-endian in its first three fields: byte 7 holds the version nibble, byte 8
        // the variant (RFC 9562: version 4, variant 10xx).
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes).ToString();
    }
}
