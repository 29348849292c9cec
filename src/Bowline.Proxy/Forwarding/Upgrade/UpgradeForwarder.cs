using System.Net;
using Bowline.Proxy.LoadBalancing;
using Bowline.Proxy.Pipeline;
using Bowline.Proxy.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Bowline.Proxy.Forwarding.Upgrade;

/// <summary>
/// HTTP/1.1 upgrades (WebSocket), which Istio lets through by default: the upgrade request goes upstream over HTTP/1.1
/// with its Upgrade header; a 101 turns both connections into one byte pipe, anything else is answered as a normal
/// response. Not retried (Envoy does not retry upgrades); the route timeout bounds only the wait for the upstream's
/// answer, never the upgraded connection, which lives until either side closes it.
/// </summary>
internal static class UpgradeForwarder
{
    private const int PumpBufferSize = 16 * 1024;

    /// <summary>
    /// An HTTP/1.1 request Kestrel can upgrade ("Connection: upgrade" with an Upgrade header), or an HTTP/2 extended
    /// CONNECT for a WebSocket (RFC 8441).
    /// </summary>
    // The header and method tests first: a feature lookup costs ~90 instructions, and nearly no request is an upgrade.
    public static bool IsUpgrade(HttpContext context) =>
        context.Request.Headers.Upgrade.Count > 0 && context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true }
        || HttpMethods.IsConnect(context.Request.Method) && ExtendedConnect(context) is not null;

    /// <summary>The HTTP/2 extended CONNECT of a WebSocket, which goes upstream as an HTTP/1.1 upgrade.</summary>
    private static IHttpExtendedConnectFeature? ExtendedConnect(HttpContext context) =>
        context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true, Protocol: { } protocol } feature
        && protocol.Equals("websocket", StringComparison.OrdinalIgnoreCase) ? feature : null;

    /// <param name="sendToken">Cancelled by the client leaving or by the route timeout, while waiting for the answer.</param>
    public static async Task ForwardAsync(HttpContext context, ProxyRequestFeature feature, CompiledCluster cluster, HttpMessageInvoker invoker,
        UpstreamEndpoint endpoint, CompiledRoute? route, string target, CompiledHeaderPolicy? destinationHeaders, ResponseEdits edits,
        Func<HttpResponseMessage, ResponseEdits, Task> copyResponse, CancellationToken sendToken)
    {
        // Upgraded connections go quiet by design: Kestrel's minimum body rate must not cut them.
        Grpc.GrpcStreams.AllowQuietRequestBody(context);

        var extendedConnect = ExtendedConnect(context);
        var method = extendedConnect is null ? HttpMethod.Parse(context.Request.Method) : HttpMethod.Get;
        using var request = Forwarder.CreateRequest(context, method, cluster, endpoint, target, body: null, route, destinationHeaders);
        // Upgrades are an HTTP/1.1 mechanism, whatever the cluster speaks otherwise.
        request.Version = HttpVersion.Version11;
        request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        request.Headers.ConnectionClose = null;
        request.Headers.TryAddWithoutValidation("Connection", "Upgrade");
        if (extendedConnect is null)
        {
            request.Headers.TryAddWithoutValidation("Upgrade", (IEnumerable<string?>)context.Request.Headers.Upgrade);
        }
        else
        {
            // RFC 8441 has no key handshake; the HTTP/1.1 hop needs one (its accept value is checked by no one here).
            request.Headers.TryAddWithoutValidation("Upgrade", "websocket");
            request.Headers.Remove("Sec-WebSocket-Key");
            request.Headers.TryAddWithoutValidation("Sec-WebSocket-Key", Convert.ToBase64String(Guid.NewGuid().ToByteArray()));
        }

        HttpResponseMessage response;
        try
        {
            response = await invoker.SendAsync(request, sendToken);
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException)
        {
            await FailedAsync(context, feature, cluster, endpoint, e);
            return;
        }

        using (response)
        {
            cluster.Outlier?.Record(endpoint, (int)response.StatusCode);
            if (response.StatusCode != HttpStatusCode.SwitchingProtocols)
            {
                // A refused upgrade is an ordinary response, passed through as such.
                await copyResponse(response, edits);
                return;
            }

            await PipeAsync(context, feature, response, edits, extendedConnect);
        }
    }

    private static async Task PipeAsync(HttpContext context, ProxyRequestFeature feature, HttpResponseMessage response, ResponseEdits edits,
        IHttpExtendedConnectFeature? extendedConnect)
    {
        var downstream = context.Response;
        foreach (var (name, values) in response.Headers.NonValidated)
        {
            // Sec-WebSocket-Accept answers the key of the HTTP/1.1 hop only; an HTTP/2 client expects none.
            if (!HopByHopHeaders.Contains(name) && (extendedConnect is null || !name.Equals("Sec-WebSocket-Accept", StringComparison.OrdinalIgnoreCase)))
            {
                downstream.Headers[name] = values.ToString();
            }
        }

        edits.Apply(downstream.Headers);
        if (extendedConnect is null)
        {
            // Kestrel writes "Connection: Upgrade" itself; the protocol switched to is the upstream's to name.
            downstream.Headers.Upgrade = response.Headers.Upgrade.ToString() is { Length: > 0 } protocol ? protocol : context.Request.Headers.Upgrade.ToString();
        }

        var aborted = context.RequestAborted;
        await using var upstream = await response.Content.ReadAsStreamAsync(aborted);
        // HTTP/2: a 200 to the CONNECT opens the stream as the tunnel.
        await using var client = extendedConnect is null ? await context.Features.Get<IHttpUpgradeFeature>()!.UpgradeAsync() : await extendedConnect.AcceptAsync();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        var toUpstream = PumpAsync(client, upstream, stop.Token);
        var toClient = PumpAsync(upstream, client, stop.Token);

        // Either side closing ends the tunnel: a WebSocket says goodbye in-band (close frames), before its TCP close.
        var first = await Task.WhenAny(toUpstream, toClient);
        await stop.CancelAsync();
        try
        {
            await Task.WhenAll(toUpstream, toClient);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The other direction was stopped mid-read: expected at tunnel end.
        }

        if (first.IsFaulted && aborted.IsCancellationRequested)
        {
            feature.Flags |= ResponseFlags.DownstreamConnectionTermination;
        }
    }

    private static async Task PumpAsync(Stream from, Stream to, CancellationToken token)
    {
        var buffer = new byte[PumpBufferSize];
        int read;
        while ((read = await from.ReadAsync(buffer, token)) > 0)
        {
            await to.WriteAsync(buffer.AsMemory(0, read), token);
            await to.FlushAsync(token);
        }
    }

    private static Task FailedAsync(HttpContext context, ProxyRequestFeature feature, CompiledCluster cluster, UpstreamEndpoint endpoint, Exception e)
    {
        if (context.RequestAborted.IsCancellationRequested)
        {
            feature.Flags |= ResponseFlags.DownstreamConnectionTermination;
            return Task.CompletedTask;
        }

        if (e is OperationCanceledException)
        {
            cluster.Outlier?.Record(endpoint, StatusCodes.Status504GatewayTimeout);
            return LocalReplies.TimeoutAsync(context, feature);
        }

        cluster.Outlier?.Record(endpoint, StatusCodes.Status503ServiceUnavailable);
        return e is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError }
            ? LocalReplies.ConnectFailureAsync(context, feature)
            : LocalReplies.ConnectionTerminationAsync(context, feature);
    }
}
