using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using Bowline.Api.Xds;
using Bowline.Proxy.Config;
using Microsoft.Extensions.Logging;

namespace Bowline.Proxy.Xds;

/// <summary>
/// The proxy's end of the push protocol (see <see cref="XdsProtocol"/>): one WebSocket, a request on connect, then an
/// ACK or NACK per pushed config. A lost stream changes nothing being served; it is re-established forever.
/// </summary>
internal sealed partial class XdsClient(XdsClientOptions options, IConfigApplier applier, TimeProvider time, ILogger<XdsClient> logger)
{
    private static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(15);

    // A control plane gone without closing the stream (its host or pod gone, a partition) sends no FIN or RST: the
    // proxy would wait on a dead socket forever and never reach the new one. A ping every interval; nothing at all
    // from the server over two of them (a ping unanswered for a whole interval) and the stream is re-established.
    private const int SilentIntervalsBeforeDead = 2;

    private readonly Backoff _backoff = new(options.InitialBackoff, options.MaxBackoff, new Random());

    // Only the first failure of an outage is a warning; the retries every ~2 s after it would drown the log.
    private bool _failing;

    // The stream now open, if any.
    private XdsWebSocket? _stream;

    // The config last applied through this client: the base a ConfigDelta is applied onto.
    private (string Version, ProxyConfig Config)? _current;

    /// <summary>Reads from the server on the open stream so far (-1: none open): lets a test see a frame consumed.</summary>
    internal long StreamReads => Volatile.Read(ref _stream)?.Reads ?? -1;

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunStreamAsync(stoppingToken);
                LogStreamClosed(logger, options.StreamUri);
                _failing = false;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is WebSocketException or IOException or HttpRequestException or JsonException or InvalidOperationException)
            {
                if (_failing)
                {
                    LogStillFailing(logger, options.StreamUri, e.Message);
                }
                else
                {
                    LogStreamFailed(logger, options.StreamUri, e.Message);
                    _failing = true;
                }
            }

            try
            {
                await Task.Delay(_backoff.Next(), time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task RunStreamAsync(CancellationToken stoppingToken)
    {
        using var socket = await WebSocketConnector.ConnectAsync(options.StreamUri, stoppingToken);
        Volatile.Write(ref _stream, socket);
        LogConnected(logger, options.StreamUri, applier.CurrentVersion ?? "(none)");
        _failing = false;
        using var dead = new CancellationTokenSource();
        using var exchange = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, dead.Token);
        using var stopKeepAlive = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var keepAlive = KeepAliveAsync(socket, dead, stopKeepAlive.Token);
        try
        {
            // A config being applied when the stream is found dead is applied all the same.
            await ExchangeAsync(socket, exchange.Token, stoppingToken);
        }
        catch (OperationCanceledException) when (dead.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
        {
            throw new WebSocketException(WebSocketError.Faulted,
                $"nothing from the control plane for {(KeepAliveInterval * SilentIntervalsBeforeDead).TotalSeconds:0} s, pings unanswered");
        }
        finally
        {
            Volatile.Write(ref _stream, null);
            await stopKeepAlive.CancelAsync();
            await keepAlive;
        }
    }

    private async Task ExchangeAsync(XdsWebSocket socket, CancellationToken streamToken, CancellationToken stoppingToken)
    {
        await SendAsync(socket, new DiscoveryRequest { Node = options.Node, VersionInfo = applier.CurrentVersion }, streamToken);

        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        while (true)
        {
            buffer.ResetWrittenCount();
            if (!await socket.ReceiveMessageAsync(buffer, streamToken))
            {
                return;
            }

            // A stream that delivers a message is healthy: the next outage starts backing off from the beginning.
            _backoff.Reset();
            var response = XdsJson.ReadResponse(buffer.WrittenSpan) ?? throw new JsonException("empty discovery response");
            var error = await ApplyAsync(response, stoppingToken);
            if (error is null)
            {
                LogApplied(logger, response.Version);
            }
            else
            {
                LogRejected(logger, response.Version, error);
            }

            await SendAsync(socket, new DiscoveryRequest
            {
                Node = options.Node,
                VersionInfo = applier.CurrentVersion,
                ResponseNonce = response.Nonce,
                ErrorDetail = error,
            }, streamToken);
        }
    }

    /// <summary>Applies a whole config, or a delta onto the current one (checked against the response's version).</summary>
    private async Task<string?> ApplyAsync(DiscoveryResponse response, CancellationToken cancellationToken)
    {
        ProxyConfig config;
        if (response.Config is { } whole)
        {
            config = whole;
        }
        else if (response.Delta is { } delta)
        {
            if (_current is not { } current || current.Version != delta.BaseVersion || applier.CurrentVersion != delta.BaseVersion)
            {
                return $"delta from {delta.BaseVersion}, but running {applier.CurrentVersion ?? "nothing"}";
            }

            var (result, error) = delta.ApplyTo(current.Config);
            if (result is null)
            {
                return error;
            }

            var version = ConfigVersion.Of(result);
            if (version != response.Version)
            {
                return $"delta onto {delta.BaseVersion} gives version {version}, not {response.Version}";
            }

            config = result;
        }
        else
        {
            return "response carries neither config nor delta";
        }

        var rejected = await applier.ApplyAsync(response.Version, config, cancellationToken);
        if (rejected is null)
        {
            _current = (response.Version, config);
        }

        return rejected;
    }

    /// <summary>A ping every interval while the stream is up; cancels <paramref name="dead"/> when the server stays silent.</summary>
    private async Task KeepAliveAsync(XdsWebSocket socket, CancellationTokenSource dead, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(KeepAliveInterval, time);
        var heard = socket.Reads;
        var silent = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var now = socket.Reads;
                silent = now == heard ? silent + 1 : 0;
                heard = now;
                if (silent >= SilentIntervalsBeforeDead)
                {
                    await dead.CancelAsync();
                    return;
                }

                await socket.SendPingAsync(cancellationToken);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or WebSocketException)
        {
            // The stream ended; the receive side reports why.
        }
    }

    private static Task SendAsync(XdsWebSocket socket, DiscoveryRequest request, CancellationToken cancellationToken) =>
        socket.SendTextAsync(XdsJson.Serialize(request), cancellationToken);

    [LoggerMessage(Level = LogLevel.Information, Message = "xDS connected to {Uri} (running version {Version})")]
    private static partial void LogConnected(ILogger logger, Uri uri, string version);

    [LoggerMessage(Level = LogLevel.Information, Message = "Config applied: version {Version}")]
    private static partial void LogApplied(ILogger logger, string version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Config version {Version} rejected (NACK): {Reason}")]
    private static partial void LogRejected(ILogger logger, string version, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "xDS stream to {Uri} closed by the server; reconnecting")]
    private static partial void LogStreamClosed(ILogger logger, Uri uri);

    [LoggerMessage(Level = LogLevel.Warning, Message = "xDS stream to {Uri} failed: {Reason}; reconnecting")]
    private static partial void LogStreamFailed(ILogger logger, Uri uri, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "xDS stream to {Uri} still failing: {Reason}")]
    private static partial void LogStillFailing(ILogger logger, Uri uri, string reason);
}
