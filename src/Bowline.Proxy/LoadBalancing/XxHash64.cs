using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Bowline.Proxy.LoadBalancing;

/// <summary>
/// xxHash64 (Envoy's hash for ring hash and Maglev). Stable across processes and machines — unlike
/// string.GetHashCode — so every proxy maps a key to the same endpoint, and a restart reshuffles nothing.
/// </summary>
internal static class XxHash64
{
    private const ulong P1 = 11400714785074694791UL;
    private const ulong P2 = 14029467366897019727UL;
    private const ulong P3 = 1609587929392839161UL;
    private const ulong P4 = 9650029242287828579UL;
    private const ulong P5 = 2870177450012600261UL;

    /// <summary>The hash of the string's UTF-8 bytes; no allocation for keys up to a few hundred characters.</summary>
    public static ulong Hash(ReadOnlySpan<char> text, ulong seed = 0)
    {
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (max <= 512)
        {
            Span<byte> buffer = stackalloc byte[max];
            return Hash(buffer[..Encoding.UTF8.GetBytes(text, buffer)], seed);
        }

        var rented = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            return Hash(rented.AsSpan(0, Encoding.UTF8.GetBytes(text, rented)), seed);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public static ulong Hash(ReadOnlySpan<byte> data, ulong seed = 0)
    {
        var length = (ulong)data.Length;
        ulong h;
        if (data.Length >= 32)
        {
            var v1 = seed + P1 + P2;
            var v2 = seed + P2;
            var v3 = seed;
            var v4 = seed - P1;
            do
            {
                v1 = Round(v1, BinaryPrimitives.ReadUInt64LittleEndian(data));
                v2 = Round(v2, BinaryPrimitives.ReadUInt64LittleEndian(data[8..]));
                v3 = Round(v3, BinaryPrimitives.ReadUInt64LittleEndian(data[16..]));
                v4 = Round(v4, BinaryPrimitives.ReadUInt64LittleEndian(data[24..]));
                data = data[32..];
            }
            while (data.Length >= 32);

            h = BitOperations.RotateLeft(v1, 1) + BitOperations.RotateLeft(v2, 7) + BitOperations.RotateLeft(v3, 12) + BitOperations.RotateLeft(v4, 18);
            h = Merge(h, v1);
            h = Merge(h, v2);
            h = Merge(h, v3);
            h = Merge(h, v4);
        }
        else
        {
            h = seed + P5;
        }

        h += length;
        while (data.Length >= 8)
        {
            h ^= Round(0, BinaryPrimitives.ReadUInt64LittleEndian(data));
            h = (BitOperations.RotateLeft(h, 27) * P1) + P4;
            data = data[8..];
        }

        if (data.Length >= 4)
        {
            h ^= BinaryPrimitives.ReadUInt32LittleEndian(data) * P1;
            h = (BitOperations.RotateLeft(h, 23) * P2) + P3;
            data = data[4..];
        }

        foreach (var b in data)
        {
            h ^= b * P5;
            h = BitOperations.RotateLeft(h, 11) * P1;
        }

        h ^= h >> 33;
        h *= P2;
        h ^= h >> 29;
        h *= P3;
        h ^= h >> 32;
        return h;
    }

    private static ulong Round(ulong acc, ulong input) => BitOperations.RotateLeft(acc + (input * P2), 31) * P1;

    private static ulong Merge(ulong acc, ulong value) => ((acc ^ Round(0, value)) * P1) + P4;
}
