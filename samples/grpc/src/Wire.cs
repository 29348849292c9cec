using System.Buffers.Binary;
using System.Text;

namespace GrpcDemo;

/// <summary>
/// gRPC's length-prefixed messages (PROTOCOL-HTTP2.md) and the two protobuf messages of greeter.proto, encoded by hand:
/// Text is field 1 as a length-delimited string, Number is field 1 as a varint.
/// </summary>
internal static class Wire
{
    public const string ContentType = "application/grpc";

    public static byte[] Text(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var message = new List<byte> { 0x0A };
        Varint(message, (ulong)bytes.Length);
        message.AddRange(bytes);
        return Frame(message);
    }

    public static byte[] Number(int value)
    {
        var message = new List<byte> { 0x08 };
        Varint(message, (ulong)(uint)value);
        return Frame(message);
    }

    public static string ParseText(byte[] message)
    {
        if (message.Length == 0)
        {
            return "";
        }

        var (length, at) = ReadVarint(message, 1);
        return message[0] == 0x0A ? Encoding.UTF8.GetString(message, at, (int)length) : throw new FormatException("not a demo.Text");
    }

    public static int ParseNumber(byte[] message) =>
        message.Length == 0 ? 0 : message[0] == 0x08 ? (int)ReadVarint(message, 1).Value : throw new FormatException("not a demo.Number");

    /// <summary>The next message's bytes, or null when the stream ended between messages.</summary>
    public static async Task<byte[]?> ReadAsync(Stream stream, CancellationToken token = default)
    {
        var header = new byte[5];
        var got = await stream.ReadAtLeastAsync(header, 5, throwOnEndOfStream: false, token);
        if (got == 0)
        {
            return null;
        }

        if (got < 5 || header[0] != 0)
        {
            throw new FormatException("bad gRPC frame header (compressed messages are not supported)");
        }

        var message = new byte[BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1))];
        await stream.ReadExactlyAsync(message, token);
        return message;
    }

    private static byte[] Frame(List<byte> message)
    {
        var frame = new byte[5 + message.Count];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)message.Count);
        message.CopyTo(frame, 5);
        return frame;
    }

    private static void Varint(List<byte> to, ulong value)
    {
        while (value >= 0x80)
        {
            to.Add((byte)(value | 0x80));
            value >>= 7;
        }

        to.Add((byte)value);
    }

    private static (ulong Value, int Next) ReadVarint(byte[] from, int at)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = from[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return (value, at);
            }
        }

        throw new FormatException("varint too long");
    }
}
