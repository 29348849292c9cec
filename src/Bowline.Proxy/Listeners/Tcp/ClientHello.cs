using System.Buffers;
using System.Buffers.Binary;

namespace Bowline.Proxy.Listeners.Tcp;

internal enum ClientHelloStatus
{
    /// <summary>A prefix of a plausible ClientHello: read more bytes.</summary>
    NeedMoreData,
    /// <summary>A whole ClientHello was parsed; the server name (if any) is known.</summary>
    Complete,
    /// <summary>Not TLS, or a malformed / oversized hello: no server name will come from these bytes.</summary>
    NotClientHello,
}

/// <summary>
/// Reads the server_name (SNI, RFC 6066) of a TLS ClientHello from the first bytes of a connection, as Envoy's
/// tls_inspector does, without consuming them (they are forwarded untouched). The hello may be split across several
/// TLS records and arrive in any number of reads; every length is checked against what contains it.
/// </summary>
internal static class ClientHello
{
    /// <summary>The most bytes read while looking for a hello (Envoy's tls_inspector default limit, 64 KiB).</summary>
    public const int MaxBytes = 64 * 1024;

    private const byte HandshakeRecord = 22;
    private const byte ClientHelloType = 1;
    private const ushort ServerNameExtension = 0;
    private const byte HostNameType = 0;
    // A record's plaintext is at most 2^14 bytes (RFC 8446 5.1).
    private const int MaxRecordLength = 16384;

    /// <summary>Parses what has arrived so far.</summary>
    /// <param name="serverName">The SNI host name, lower case, when <see cref="ClientHelloStatus.Complete"/> and present.</param>
    public static ClientHelloStatus TryReadServerName(ReadOnlySpan<byte> data, out string? serverName)
    {
        serverName = null;
        if (data.Length == 0)
        {
            return ClientHelloStatus.NeedMoreData;
        }

        if (data[0] != HandshakeRecord)
        {
            return ClientHelloStatus.NotClientHello;
        }

        // First pass: the handshake message's total length, from the first record's first 4 payload bytes (which may
        // themselves be split across records, so gather the payload as records come).
        byte[]? rented = null;
        try
        {
            var status = Reassemble(data, ref rented, out var handshake);
            if (status != ClientHelloStatus.Complete)
            {
                return status;
            }

            return ParseHandshake(handshake, out serverName) ? ClientHelloStatus.Complete : ClientHelloStatus.NotClientHello;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Concatenates handshake record payloads until the whole first handshake message is there.</summary>
    private static ClientHelloStatus Reassemble(ReadOnlySpan<byte> data, ref byte[]? rented, out ReadOnlySpan<byte> handshake)
    {
        handshake = default;
        var offset = 0;
        var gathered = 0;
        var needed = -1; // handshake header (4) + body, once known
        ReadOnlySpan<byte> single = default;
        var records = 0;
        while (true)
        {
            if (data.Length - offset < 5)
            {
                return CheckHeaderPrefix(data[offset..]);
            }

            var header = data.Slice(offset, 5);
            if (header[0] != HandshakeRecord || header[1] != 3 || header[2] > 4)
            {
                return ClientHelloStatus.NotClientHello;
            }

            var length = BinaryPrimitives.ReadUInt16BigEndian(header[3..]);
            if (length == 0 || length > MaxRecordLength)
            {
                return ClientHelloStatus.NotClientHello;
            }

            if (data.Length - offset - 5 < length)
            {
                // Only a prefix of this record: enough if the handshake header already says it needs more anyway.
                return offset + 5 + length > MaxBytes ? ClientHelloStatus.NotClientHello : EarlyVerdict(data.Slice(offset + 5), records == 0 ? default : single, gathered, rented);
            }

            var payload = data.Slice(offset + 5, length);
            offset += 5 + length;
            records++;
            if (records == 1)
            {
                single = payload;
                gathered = payload.Length;
            }
            else
            {
                if (rented is null)
                {
                    rented = ArrayPool<byte>.Shared.Rent(MaxBytes);
                    single.CopyTo(rented);
                }

                if (gathered + payload.Length > rented.Length)
                {
                    return ClientHelloStatus.NotClientHello;
                }

                payload.CopyTo(rented.AsSpan(gathered));
                gathered += payload.Length;
            }

            var sofar = rented is null ? single : rented.AsSpan(0, gathered);
            if (needed < 0 && sofar.Length >= 4)
            {
                if (sofar[0] != ClientHelloType)
                {
                    return ClientHelloStatus.NotClientHello;
                }

                needed = 4 + ((sofar[1] << 16) | (sofar[2] << 8) | sofar[3]);
                if (needed > MaxBytes)
                {
                    return ClientHelloStatus.NotClientHello;
                }
            }

            if (needed >= 0 && sofar.Length >= needed)
            {
                handshake = sofar[..needed];
                return ClientHelloStatus.Complete;
            }

            if (offset > MaxBytes)
            {
                return ClientHelloStatus.NotClientHello;
            }
        }
    }

    /// <summary>Fewer than 5 bytes of a record header: plausible if what is there fits a handshake record header.</summary>
    private static ClientHelloStatus CheckHeaderPrefix(ReadOnlySpan<byte> prefix)
    {
        if (prefix.Length >= 1 && prefix[0] != HandshakeRecord)
        {
            return ClientHelloStatus.NotClientHello;
        }

        if (prefix.Length >= 2 && prefix[1] != 3)
        {
            return ClientHelloStatus.NotClientHello;
        }

        return ClientHelloStatus.NeedMoreData;
    }

    /// <summary>A partial record: reject at once when its first bytes already show no ClientHello follows.</summary>
    private static ClientHelloStatus EarlyVerdict(ReadOnlySpan<byte> partial, ReadOnlySpan<byte> before, int gathered, byte[]? rented)
    {
        var first = gathered > 0 ? (rented is null ? before : rented.AsSpan(0, gathered)) : partial;
        return first.Length > 0 && first[0] != ClientHelloType ? ClientHelloStatus.NotClientHello : ClientHelloStatus.NeedMoreData;
    }

    /// <summary>The ClientHello handshake message (type, 3-byte length, body): its SNI. False when malformed.</summary>
    private static bool ParseHandshake(ReadOnlySpan<byte> message, out string? serverName)
    {
        serverName = null;
        var r = new Reader(message[4..]);
        // legacy_version (2), random (32)
        if (!r.Skip(34)
            || !r.Vector8(out _)                                 // legacy_session_id <0..32>
            || !r.Vector16(out var suites) || suites.Length < 2 || suites.Length % 2 != 0
            || !r.Vector8(out var compression) || compression.Length < 1)
        {
            return false;
        }

        if (r.Remaining == 0)
        {
            return true; // no extensions at all (old clients): a hello without SNI
        }

        if (!r.Vector16(out var extensions) || r.Remaining != 0)
        {
            return false;
        }

        var e = new Reader(extensions);
        var seen = false;
        while (e.Remaining > 0)
        {
            if (!e.U16(out var type) || !e.Vector16(out var body))
            {
                return false;
            }

            if (type != ServerNameExtension)
            {
                continue;
            }

            if (seen)
            {
                return false; // a repeated extension is a fatal error in TLS
            }

            seen = true;
            if (!ServerName(body, out serverName))
            {
                return false;
            }
        }

        return true;
    }

    private static bool ServerName(ReadOnlySpan<byte> body, out string? name)
    {
        name = null;
        var r = new Reader(body);
        if (!r.Vector16(out var list) || r.Remaining != 0 || list.Length == 0)
        {
            return false;
        }

        var l = new Reader(list);
        while (l.Remaining > 0)
        {
            if (!l.U8(out var type) || !l.Vector16(out var host))
            {
                return false;
            }

            if (type != HostNameType || name is not null)
            {
                continue; // only the first host_name counts (RFC 6066 allows one per type)
            }

            if (host.Length == 0 || host.Length > 255)
            {
                return false;
            }

            foreach (var b in host)
            {
                // DNS host names are printable ASCII; anything else (NUL, spaces, UTF-8) is not a name to route on.
                if (b <= 0x20 || b >= 0x7f)
                {
                    return false;
                }
            }

            name = System.Text.Encoding.ASCII.GetString(host).ToLowerInvariant();
        }

        return true;
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _data = data;

        public readonly int Remaining => _data.Length;

        public bool Skip(int n)
        {
            if (_data.Length < n)
            {
                return false;
            }

            _data = _data[n..];
            return true;
        }

        public bool U8(out byte value)
        {
            value = 0;
            if (_data.Length < 1)
            {
                return false;
            }

            value = _data[0];
            _data = _data[1..];
            return true;
        }

        public bool U16(out ushort value)
        {
            value = 0;
            if (_data.Length < 2)
            {
                return false;
            }

            value = BinaryPrimitives.ReadUInt16BigEndian(_data);
            _data = _data[2..];
            return true;
        }

        public bool Vector8(out ReadOnlySpan<byte> value)
        {
            value = default;
            if (!U8(out var n) || _data.Length < n)
            {
                return false;
            }

            value = _data[..n];
            _data = _data[n..];
            return true;
        }

        public bool Vector16(out ReadOnlySpan<byte> value)
        {
            value = default;
            if (!U16(out var n) || _data.Length < n)
            {
                return false;
            }

            value = _data[..n];
            _data = _data[n..];
            return true;
        }
    }
}
