using System.Buffers.Binary;
using System.Numerics;

namespace Bowline.Proxy.Xds;

/// <summary>
/// SHA-1 (FIPS 180-4), only for the WebSocket handshake's Sec-WebSocket-Accept check (RFC 6455 §4.2.2), where it is a
/// fixed transform rather than security. .NET's SHA1 loads and initializes OpenSSL (libssl + libcrypto, ~4 MB
/// resident) in every proxy whose control-plane connection is plaintext and which uses no TLS otherwise.
/// </summary>
internal static class Sha1
{
    public const int HashSize = 20;

    public static byte[] Hash(ReadOnlySpan<byte> data)
    {
        uint h0 = 0x67452301, h1 = 0xEFCDAB89, h2 = 0x98BADCFE, h3 = 0x10325476, h4 = 0xC3D2E1F0;
        Span<uint> w = stackalloc uint[80];
        Span<byte> last = stackalloc byte[128];

        var full = data.Length / 64 * 64;
        for (var offset = 0; offset < full; offset += 64)
        {
            Block(data.Slice(offset, 64), w, ref h0, ref h1, ref h2, ref h3, ref h4);
        }

        // The tail, a 1 bit, zeros, and the length in bits: one or two more blocks.
        var tail = data[full..];
        tail.CopyTo(last);
        last[tail.Length] = 0x80;
        var blocks = tail.Length + 9 <= 64 ? 1 : 2;
        BinaryPrimitives.WriteUInt64BigEndian(last.Slice((blocks * 64) - 8, 8), (ulong)data.Length * 8);
        for (var i = 0; i < blocks; i++)
        {
            Block(last.Slice(i * 64, 64), w, ref h0, ref h1, ref h2, ref h3, ref h4);
        }

        var hash = new byte[HashSize];
        BinaryPrimitives.WriteUInt32BigEndian(hash.AsSpan(0), h0);
        BinaryPrimitives.WriteUInt32BigEndian(hash.AsSpan(4), h1);
        BinaryPrimitives.WriteUInt32BigEndian(hash.AsSpan(8), h2);
        BinaryPrimitives.WriteUInt32BigEndian(hash.AsSpan(12), h3);
        BinaryPrimitives.WriteUInt32BigEndian(hash.AsSpan(16), h4);
        return hash;
    }

    private static void Block(ReadOnlySpan<byte> block, Span<uint> w, ref uint h0, ref uint h1, ref uint h2, ref uint h3, ref uint h4)
    {
        for (var t = 0; t < 16; t++)
        {
            w[t] = BinaryPrimitives.ReadUInt32BigEndian(block.Slice(t * 4, 4));
        }

        for (var t = 16; t < 80; t++)
        {
            w[t] = BitOperations.RotateLeft(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
        }

        uint a = h0, b = h1, c = h2, d = h3, e = h4;
        for (var t = 0; t < 80; t++)
        {
            var (f, k) = t switch
            {
                < 20 => ((b & c) | (~b & d), 0x5A827999u),
                < 40 => (b ^ c ^ d, 0x6ED9EBA1u),
                < 60 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDCu),
                _ => (b ^ c ^ d, 0xCA62C1D6u),
            };
            var temp = BitOperations.RotateLeft(a, 5) + f + e + k + w[t];
            e = d;
            d = c;
            c = BitOperations.RotateLeft(b, 30);
            b = a;
            a = temp;
        }

        h0 += a;
        h1 += b;
        h2 += c;
        h3 += d;
        h4 += e;
    }
}
