using System.Buffers;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Bowline.Proxy.Listeners;

/// <summary>
/// HTTP/1.1 and h2c (HTTP/2 prior knowledge) on one cleartext port. Kestrel's Http1AndHttp2 picks HTTP/1.1 for every
/// cleartext connection (without ALPN it cannot tell), so this connection middleware peeks at the first bytes — without
/// consuming them — and, on the HTTP/2 connection preface, presents the connection to Kestrel as if ALPN had chosen "h2".
/// </summary>
internal static class H2cPriorKnowledge
{
    private static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    /// <param name="firstBytesTimeout">
    /// A client that connects and sends nothing (or a bare prefix of the preface) is cut off after this, before
    /// Kestrel's own request-head timeout would start counting.
    /// </param>
    public static Func<ConnectionDelegate, ConnectionDelegate> Detect(TimeSpan firstBytesTimeout) => next => async connection =>
    {
        bool isHttp2;
        try
        {
            isHttp2 = await IsHttp2Async(connection, firstBytesTimeout);
        }
        catch (OperationCanceledException)
        {
            connection.Abort();
            return;
        }

        if (isHttp2)
        {
            connection.Features.Set<ITlsConnectionFeature>(NoTls.Instance);
            connection.Features.Set<ITlsApplicationProtocolFeature>(NoTls.Instance);
        }

        await next(connection);
    };

    private static async Task<bool> IsHttp2Async(ConnectionContext connection, TimeSpan firstBytesTimeout)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        timeout.CancelAfter(firstBytesTimeout);
        var input = connection.Transport.Input;
        while (true)
        {
            var result = await input.ReadAsync(timeout.Token);
            var buffer = result.Buffer;
            var verdict = Check(buffer);
            if (verdict is null && !result.IsCompleted)
            {
                // Not enough bytes to tell: wait for more.
                input.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }

            // Nothing consumed or examined, so Kestrel's first read returns these same bytes at once.
            input.AdvanceTo(buffer.Start);
            return verdict == true;
        }
    }

    /// <summary>True: HTTP/2 preface; false: anything else; null: a prefix of the preface, need more bytes.</summary>
    private static bool? Check(ReadOnlySequence<byte> buffer)
    {
        var length = (int)Math.Min(buffer.Length, Preface.Length);
        Span<byte> head = stackalloc byte[Preface.Length];
        buffer.Slice(0, length).CopyTo(head);
        if (!head[..length].SequenceEqual(Preface[..length]))
        {
            return false;
        }

        return length == Preface.Length ? true : null;
    }

    /// <summary>What Kestrel's protocol selection reads: "TLS" present and ALPN "h2". There is no certificate.</summary>
    private sealed class NoTls : ITlsConnectionFeature, ITlsApplicationProtocolFeature
    {
        public static readonly NoTls Instance = new();

        public X509Certificate2? ClientCertificate { get => null; set { } }

        public ReadOnlyMemory<byte> ApplicationProtocol { get; } = "h2"u8.ToArray();

        public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) => Task.FromResult<X509Certificate2?>(null);
    }
}
