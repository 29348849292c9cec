namespace Bowline.Proxy.Forwarding;

/// <summary>
/// x-request-id values: random (version 4) UUIDs, as Envoy generates them. Drawn from the thread's fast PRNG rather
/// than <see cref="Guid.NewGuid"/> (a getrandom call per request): the id correlates logs and traces, it is no secret.
/// </summary>
internal static class RequestId
{
    /// <summary>
    /// The canonical text (8-4-4-4-12 lowercase hex) of 16 random bytes in RFC 9562 order, written straight into the
    /// string: Guid.ToString took ~1.1k instructions of every proxied request (callgrind), this ~0.2k.
    /// </summary>
    public static string New()
    {
        Span<byte> bytes = stackalloc byte[16];
        Random.Shared.NextBytes(bytes);
        // RFC 9562 §5.4: version 4 in the high nibble of byte 6, variant 10xx in the high bits of byte 8.
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        var state = (Hi: BitConverter.ToUInt64(bytes), Lo: BitConverter.ToUInt64(bytes[8..]));
        return string.Create(36, state, static (text, s) =>
        {
            Span<byte> b = stackalloc byte[16];
            BitConverter.TryWriteBytes(b, s.Hi);
            BitConverter.TryWriteBytes(b[8..], s.Lo);
            var at = 0;
            for (var i = 0; i < 16; i++)
            {
                if (i is 4 or 6 or 8 or 10)
                {
                    text[at++] = '-';
                }

                text[at++] = Hex[b[i] >> 4];
                text[at++] = Hex[b[i] & 0xF];
            }
        });
    }

    private const string Hex = "0123456789abcdef";
}
