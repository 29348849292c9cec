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

    private readonly Backoff _backoff = new(options.InitialBackoff, options.MaxBackoff, new Random());

    // Only the first failure of an outage is a warning; the retries every ~2 s after it would drown the log.
    private bool _failing;

    // The config last applied through this client: the base a ConfigDelta is applied onto.
    private (string Version, ProxyConfig Config)? _current;

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
        LogConnected(logger, options.StreamUri, applier.CurrentVersion ?? "(none)");
        _failing = false;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var keepAlive = KeepAliveAsync(socket, stop.Token);
        try
        {
            await ExchangeAsync(socket, stoppingToken);
        }
        finally
        {
            await stop.CancelAsync();
            await keepAlive;
        }
    }

    private async Task ExchangeAsync(XdsWebSocket socket, CancellationToken stoppingToken)
    {
        await SendAsync(socket, new DiscoveryRequest { Node = options.Node, VersionInfo = applier.CurrentVersion }, stoppingToken);

        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        while (true)
        {
            buffer.ResetWrittenCount();
            if (!await socket.ReceiveMessageAsync(buffer, stoppingToken))
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
            }, stoppingToken);
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

    /// <summary>An unsolicited pong every 15 s while the stream is up (what ClientWebSocket's KeepAliveInterval sent).</summary>
    private async Task KeepAliveAsync(XdsWebSocket socket, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(KeepAliveInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                await socket.SendKeepAliveAsync(cancellationToken);
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
