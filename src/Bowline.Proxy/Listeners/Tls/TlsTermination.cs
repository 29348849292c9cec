using System.IO.Pipelines;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;

namespace Bowline.Proxy.Listeners.Tls;

/// <summary>
/// Per connection, TLS or plaintext as the listener's current config says: with TLS, the handshake (SNI picks the
/// context, <see cref="CompiledTls"/>), then Kestrel reads HTTP/1.1 or HTTP/2 (ALPN) from the decrypted stream.
/// The config is read per connection, so a push that rotates a certificate or changes the mode applies to the next
/// handshake and never touches connections already open. Kestrel's own HTTPS middleware fixes its certificates when
/// the listener starts, which is why the handshake is done here.
/// </summary>
internal static partial class TlsTermination
{
    // A client that connects and never finishes its handshake is cut off here.
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    /// <param name="firstBytesTimeout">How long a plaintext connection may take to send its first bytes (slowloris).</param>
    public static ConnectionDelegate Wrap(ConnectionDelegate next, Func<CompiledTls?> current, ILogger logger, TimeSpan firstBytesTimeout)
    {
        var plaintext = H2cPriorKnowledge.Detect(firstBytesTimeout)(next);
        return connection => current() is { } tls ? TerminateAsync(connection, tls, next, logger) : plaintext(connection);
    }

    private static async Task TerminateAsync(ConnectionContext connection, CompiledTls tls, ConnectionDelegate next, ILogger logger)
    {
        var transport = connection.Transport;
        var ssl = new SslStream(new DuplexStream(transport.Input.AsStream(leaveOpen: true), transport.Output.AsStream(leaveOpen: true)), leaveInnerStreamOpen: false);
        await using (ssl)
        {
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed))
            {
                timeout.CancelAfter(HandshakeTimeout);
                try
                {
                    await ssl.AuthenticateAsServerAsync(
                        static (_, hello, state, _) => ValueTask.FromResult(((CompiledTls)state!).Select(hello.ServerName)),
                        tls,
                        timeout.Token);
                }
                catch (Exception e)
                {
                    // A failed handshake is the client's business (no certificate, unknown SNI, plaintext on a TLS port).
                    // Returning closes the connection gracefully, so the TLS alert SslStream wrote reaches the client
                    // ("certificate required" rather than a reset); only a stalled handshake is cut off hard.
                    LogHandshakeFailed(logger, connection.RemoteEndPoint, e.Message);
                    if (e is OperationCanceledException)
                    {
                        connection.Abort();
                    }

                    return;
                }
            }

            var features = new TlsFeatures(ssl);
            connection.Features.Set<ITlsConnectionFeature>(features);
            connection.Features.Set<ITlsApplicationProtocolFeature>(features);
            connection.Features.Set(DownstreamTls.Instance);
            var input = PipeReader.Create(ssl, new StreamPipeReaderOptions(leaveOpen: true));
            var output = PipeWriter.Create(ssl, new StreamPipeWriterOptions(leaveOpen: true));
            connection.Transport = new Pipe(input, output);
            try
            {
                await next(connection);
            }
            finally
            {
                await input.CompleteAsync();
                await output.CompleteAsync();
                connection.Transport = transport;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "TLS handshake from {Remote} failed: {Reason}")]
    private static partial void LogHandshakeFailed(ILogger logger, System.Net.EndPoint? remote, string reason);

    private sealed class Pipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }

    /// <summary>What Kestrel reads: TLS present (scheme https), the ALPN choice, the client certificate if any.</summary>
    private sealed class TlsFeatures(SslStream ssl) : ITlsConnectionFeature, ITlsApplicationProtocolFeature
    {
        private X509Certificate2? _client = ssl.RemoteCertificate is { } c ? X509CertificateLoader.LoadCertificate(c.GetRawCertData()) : null;

        public X509Certificate2? ClientCertificate { get => _client; set => _client = value; }

        public ReadOnlyMemory<byte> ApplicationProtocol { get; } = ssl.NegotiatedApplicationProtocol.Protocol;

        public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) => Task.FromResult(_client);
    }
}
