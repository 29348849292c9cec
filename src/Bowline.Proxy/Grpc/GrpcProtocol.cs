using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Grpc;

/// <summary>What the proxy needs to know of gRPC over HTTP/2: which requests are gRPC, their deadline, Envoy's status mapping.</summary>
internal static class GrpcProtocol
{
    public const string ContentType = "application/grpc";

    /// <summary>Envoy's test: content-type "application/grpc", or "application/grpc+proto", "application/grpc;...".</summary>
    public static bool IsGrpc(HttpRequest request)
    {
        var contentType = request.ContentType;
        return contentType is not null && contentType.StartsWith(ContentType, StringComparison.OrdinalIgnoreCase)
            && (contentType.Length == ContentType.Length || contentType[ContentType.Length] is '+' or ';');
    }

    /// <summary>
    /// The "grpc-timeout" header (1–8 digits and a unit H, M, S, m, u, n), or null when absent or malformed —
    /// Envoy ignores a malformed one as well.
    /// </summary>
    public static TimeSpan? Timeout(HttpRequest request)
    {
        var values = request.Headers["grpc-timeout"];
        if (values.Count != 1 || values[0] is not { Length: >= 2 and <= 9 } value
            || !long.TryParse(value.AsSpan(0, value.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            return null;
        }

        return value[^1] switch
        {
            'H' => TimeSpan.FromHours(amount),
            'M' => TimeSpan.FromMinutes(amount),
            'S' => TimeSpan.FromSeconds(amount),
            'm' => TimeSpan.FromMilliseconds(amount),
            'u' => TimeSpan.FromMicroseconds(amount),
            // Sub-tick precision is meaningless for a proxy timer; at least one tick, so "0n" is not "no timeout".
            'n' => TimeSpan.FromTicks(Math.Max(1, amount / 100)),
            _ => null,
        };
    }

    /// <summary>
    /// Envoy's Grpc::Utility::httpToGrpcStatus, used for its own replies to gRPC requests: the HTTP status it would
    /// have answered becomes the grpc-status of a trailers-only response.
    /// </summary>
    public static int FromHttpStatus(int status) => status switch
    {
        400 => GrpcStatus.Internal,
        401 => GrpcStatus.Unauthenticated,
        403 => GrpcStatus.PermissionDenied,
        404 => GrpcStatus.Unimplemented,
        429 or 502 or 503 or 504 => GrpcStatus.Unavailable,
        _ => GrpcStatus.Unknown,
    };

    /// <summary>grpc-message is percent-encoded (gRPC's PROTOCOL-HTTP2): printable ASCII except '%' stays as is.</summary>
    public static string EncodeMessage(string message)
    {
        var builder = new System.Text.StringBuilder(message.Length);
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(message))
        {
            if (b is >= 0x20 and <= 0x7e && b != (byte)'%')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    /// <summary>The gRPC status codes the proxy itself produces.</summary>
    public static class GrpcStatus
    {
        public const int Unknown = 2;
        public const int DeadlineExceeded = 4;
        public const int PermissionDenied = 7;
        public const int Unimplemented = 12;
        public const int Internal = 13;
        public const int Unavailable = 14;
        public const int Unauthenticated = 16;
    }
}
