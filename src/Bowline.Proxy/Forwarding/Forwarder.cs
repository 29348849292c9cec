using System.Net;
using Bowline.Proxy.Listeners.Tls;
using Bowline.Proxy.LoadBalancing;
using Bowline.Proxy.Pipeline;
using Bowline.Proxy.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;

namespace Bowline.Proxy.Forwarding;

/// <summary>
/// Sends one downstream request to a cluster and streams the answer back: endpoint choice per try, retries,
/// the route timeout, and the Envoy-style local replies when there is no upstream answer.
/// </summary>
/// <param name="random">Draws the retry back-off jitter; the shared random unless a test fixes it.</param>
/// <param name="http1">Plain HTTP/1.1 to endpoints of clusters without connectionPool settings goes through Bowline's own
/// client (<see cref="Http1.Http1Client"/>); false sends everything through <paramref name="client"/>.</param>
internal sealed class Forwarder(HttpMessageInvoker client, TimeProvider time, IRandomSource? random = null, bool http1 = true)
{
    // Envoy's default retry back-off: 25 ms base interval, capped at 10 times that.
    private const int RetryBackoffBaseMs = 25;
    private const int RetryBackoffMaxMs = 250;

    /// <summary>Request header that tightens the route timeout for one request (Envoy's; consumed, not forwarded).</summary>
    public const string TimeoutHeader = "x-envoy-upstream-rq-timeout-ms";

    /// <summary>Response header with the upstream's time to answer (Envoy's router sets it).</summary>
    public const string UpstreamServiceTimeHeader = "x-envoy-upstream-service-time";

    private readonly IRandomSource _random = random ?? SharedRandomSource.Instance;

    /// <param name="destinationHeaders">Header edits of the picked destination, applied before the route's.</param>
    /// <param name="corsOrigin">The request's Origin when the route's CORS policy allows it: the response gets CORS headers.</param>
    public Task ForwardAsync(HttpContext context, ProxyRequestFeature feature, CompiledCluster cluster, CompiledRoute? route, string target,
        CompiledHeaderPolicy? destinationHeaders = null, string? corsOrigin = null)
    {
        feature.ClusterName = cluster.Name;
        feature.Cluster = cluster;
        // Without circuit breakers nothing is left to do after the forward: no async frame of its own.
        return cluster.CircuitBreaker is { } breaker
            ? ForwardBreakerAsync(breaker, context, feature, cluster, route, target, destinationHeaders, corsOrigin)
            : ForwardAdmittedAsync(context, feature, cluster, route, target, destinationHeaders, corsOrigin);
    }

    private async Task ForwardBreakerAsync(CircuitBreaker breaker, HttpContext context, ProxyRequestFeature feature, CompiledCluster cluster, CompiledRoute? route,
        string target, CompiledHeaderPolicy? destinationHeaders, string? corsOrigin)
    {
        if (!breaker.TryEnter())
        {
            cluster.Stats.RecordOverflow();
            await LocalReplies.OverflowAsync(context, feature);
            return;
        }

        try
        {
            await ForwardAdmittedAsync(context, feature, cluster, route, target, destinationHeaders, corsOrigin);
        }
        finally
        {
            breaker.Exit();
            if (feature.HoldsRetrySlot)
            {
                breaker.ExitRetry();
            }
        }
    }

    private async Task ForwardAdmittedAsync(HttpContext context, ProxyRequestFeature feature, CompiledCluster cluster, CompiledRoute? route, string target,
        CompiledHeaderPolicy? destinationHeaders, string? corsOrigin)
    {
        var aborted = context.RequestAborted;
        using var timeout = EffectiveTimeout(route, context.Request) is { } t ? new CancellationTokenSource(t, time) : null;
        using var linked = timeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(aborted, timeout.Token);
        var token = linked?.Token ?? aborted;

        var retries = route?.Retries;
        var hasBody = context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? context.Request.ContentLength > 0;
        ulong? hash = null;
        if (cluster.Hash is { } hashPolicy)
        {
            hash = hashPolicy.Compute(context, out var setCookie);
            feature.SetCookie = setCookie;
        }

        var outlier = cluster.Outlier;
        var invoker = cluster.Client ?? client;
        // Clusters with connectionPool settings keep HttpClient's pool: it queues for maxConnections per endpoint.
        var ownClient = http1 && cluster.Client is null && cluster.HttpVersion == HttpVersion.Version11 && !cluster.OriginalDestination;
        var replay = hasBody && retries is not null ? new RequestBodyReplay() : null;
        if (Upgrade.UpgradeForwarder.IsUpgrade(context))
        {
            await ForwardUpgradeAsync(context, feature, cluster, invoker, hash, route, target, destinationHeaders, corsOrigin, timeout, token);
            return;
        }

        for (var attempt = 0; ; attempt++)
        {
            var endpoint = cluster.OriginalDestination ? Forwarding.OriginalDestination.Of(context) : cluster.PickEndpoint(hash, _random);
            if (endpoint is null)
            {
                await LocalReplies.NoHealthyUpstreamAsync(context, feature);
                return;
            }

            if (cluster.TracksActiveRequests)
            {
                endpoint.BeginRequest();
            }

            try
            {
                feature.UpstreamEndpoint = endpoint.UriPrefix;
                feature.Endpoint = endpoint;
                var body = hasBody ? new RequestBodyContent(context.Request, replay, feature) : null;
                using var perTry = retries?.PerTryTimeout is { } perTryTimeout ? new CancellationTokenSource(perTryTimeout, time) : null;
                using var perTryLinked = perTry is null ? null : CancellationTokenSource.CreateLinkedTokenSource(token, perTry.Token);

                // Asked after the try: a body the client began sending can be replayed only from the retry buffer.
                bool MayRetry() => retries is not null && attempt < retries.Attempts && (body is null || !body.Started || body.Replayable);

                // Asked last, once a retry is otherwise decided: the cluster's maxRetries in flight (Envoy's retry budget).
                bool RetrySlot() => TryTakeRetrySlot(cluster, feature);
                UpstreamResponse response;
                var sent = System.Diagnostics.Stopwatch.GetTimestamp();
                try
                {
                    response = ownClient
                        ? await Http1.Http1Client.SendAsync(context, feature, endpoint, target, body, route, destinationHeaders, perTryLinked?.Token ?? token)
                        : await SendMessageAsync(invoker, context, cluster, endpoint, target, body, route, destinationHeaders, feature, perTryLinked?.Token ?? token);
                    feature.UpstreamServiceTime = System.Diagnostics.Stopwatch.GetElapsedTime(sent);
                }
                catch (OperationCanceledException) when (aborted.IsCancellationRequested)
                {
                    feature.Flags |= ResponseFlags.DownstreamConnectionTermination;
                    return;
                }
                catch (OperationCanceledException) when (timeout?.IsCancellationRequested == true)
                {
                    outlier?.Record(endpoint, StatusCodes.Status504GatewayTimeout);
                    await LocalReplies.TimeoutAsync(context, feature);
                    return;
                }
                catch (OperationCanceledException) when (perTry?.IsCancellationRequested == true)
                {
                    // A per-try timeout counts as a gateway error for retries, as in Envoy.
                    outlier?.Record(endpoint, StatusCodes.Status504GatewayTimeout);
                    if (MayRetry() && retries!.RetriesPerTryTimeout && RetrySlot())
                    {
                        if (await RetryAsync(cluster, attempt, token))
                        {
                            continue;
                        }

                        await BackoffInterruptedAsync(context, feature, timeout);
                        return;
                    }

                    MarkRetriesExhausted(feature, retries, attempt);
                    await LocalReplies.TimeoutAsync(context, feature);
                    return;
                }
                catch (HttpRequestException) when (aborted.IsCancellationRequested)
                {
                    feature.Flags |= ResponseFlags.DownstreamConnectionTermination;
                    return;
                }
                catch (Exception e) when (e is not OperationCanceledException && DownstreamBodyException.StatusOf(e) is { } status)
                {
                    // The client's body, not the upstream, failed: no outlier record, no retry.
                    await LocalReplies.DownstreamProtocolErrorAsync(context, feature, status);
                    return;
                }
                catch (HttpRequestException e)
                {
                    var connectFailure = e.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError;
                    // Envoy counts connect failures and resets as 503s (local-origin errors not split out).
                    outlier?.Record(endpoint, StatusCodes.Status503ServiceUnavailable);
                    if (MayRetry() && (connectFailure ? retries!.RetriesConnectFailure : retries!.RetriesReset(IsRefusedStream(e))) && RetrySlot())
                    {
                        if (await RetryAsync(cluster, attempt, token))
                        {
                            continue;
                        }

                        await BackoffInterruptedAsync(context, feature, timeout);
                        return;
                    }

                    MarkRetriesExhausted(feature, retries, attempt);
                    await (connectFailure ? LocalReplies.ConnectFailureAsync(context, feature) : LocalReplies.ConnectionTerminationAsync(context, feature));
                    return;
                }

                using (response)
                {
                    outlier?.Record(endpoint, response.StatusCode);
                    var retriable = retries is not null && retries.ShouldRetry(response, context.Request);
                    if (retriable && MayRetry() && RetrySlot())
                    {
                        if (await RetryAsync(cluster, attempt, token))
                        {
                            continue;
                        }

                        await BackoffInterruptedAsync(context, feature, timeout);
                        return;
                    }

                    if (retriable)
                    {
                        MarkRetriesExhausted(feature, retries, attempt);
                    }

                    var edits = new ResponseEdits(destinationHeaders?.Response, route?.Headers?.Response, route?.Cors, corsOrigin);
                    await response.CopyToAsync(context, feature, edits, timeout, token);
                    return;
                }
            }
            finally
            {
                if (cluster.TracksActiveRequests)
                {
                    endpoint.EndRequest();
                }
            }
        }
    }

    /// <summary>One try through HttpClient (HTTP/2, clusters with their own pool, original destinations).</summary>
    private static async Task<UpstreamResponse> SendMessageAsync(HttpMessageInvoker invoker, HttpContext context, CompiledCluster cluster,
        UpstreamEndpoint endpoint, string target, RequestBodyContent? body, CompiledRoute? route, CompiledHeaderPolicy? destinationHeaders,
        ProxyRequestFeature feature, CancellationToken token)
    {
        var request = CreateRequest(context, HttpMethod.Parse(context.Request.Method), cluster, endpoint, target, body, route, destinationHeaders);
        try
        {
            AddPeerMetadata(request, feature, endpoint);
            return new MessageUpstreamResponse(request, await invoker.SendAsync(request, token));
        }
        catch
        {
            request.Dispose();
            throw;
        }
    }

    /// <summary>One try, no retries (Envoy does not retry upgrades); see <see cref="Upgrade.UpgradeForwarder"/>.</summary>
    private async Task ForwardUpgradeAsync(HttpContext context, ProxyRequestFeature feature, CompiledCluster cluster, HttpMessageInvoker invoker, ulong? hash,
        CompiledRoute? route, string target, CompiledHeaderPolicy? destinationHeaders, string? corsOrigin, CancellationTokenSource? timeout, CancellationToken token)
    {
        if (cluster.PickEndpoint(hash, _random) is not { } endpoint)
        {
            await LocalReplies.NoHealthyUpstreamAsync(context, feature);
            return;
        }

        feature.UpstreamEndpoint = endpoint.UriPrefix;
        var edits = new ResponseEdits(destinationHeaders?.Response, route?.Headers?.Response, route?.Cors, corsOrigin);
        await Upgrade.UpgradeForwarder.ForwardAsync(context, feature, cluster, invoker, endpoint, route, target, destinationHeaders, edits,
            (response, e) => CopyResponseAsync(context, feature, response, e, timeout, token), token);
    }

    private static bool TryTakeRetrySlot(CompiledCluster cluster, ProxyRequestFeature feature)
    {
        if (cluster.CircuitBreaker is not { } breaker || feature.HoldsRetrySlot)
        {
            return true;
        }

        if (breaker.TryEnterRetry())
        {
            feature.HoldsRetrySlot = true;
            return true;
        }

        cluster.Stats.RecordRetryOverflow();
        return false;
    }

    private static void MarkRetriesExhausted(ProxyRequestFeature feature, CompiledRetryPolicy? retries, int attempt)
    {
        if (retries is not null && attempt >= retries.Attempts)
        {
            feature.Flags |= ResponseFlags.UpstreamRetryLimitExceeded;
        }
    }

    /// <summary>
    /// Counts the retry and waits before it; false when the request was cancelled meanwhile (route timeout or client
    /// gone — <see cref="BackoffInterruptedAsync"/> answers then).
    /// </summary>
    private async Task<bool> RetryAsync(CompiledCluster cluster, int attempt, CancellationToken token)
    {
        cluster.Stats.RecordRetry();
        try
        {
            await Task.Delay(BackoffDelay(attempt, _random), time, token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Envoy's jittered exponential back-off: uniform in [0, min(25 ms × 2^attempt, 250 ms)).</summary>
    internal static TimeSpan BackoffDelay(int attempt, IRandomSource random)
    {
        var window = Math.Min(RetryBackoffBaseMs << Math.Min(attempt, 4), RetryBackoffMaxMs);
        return TimeSpan.FromMilliseconds(random.Next(window));
    }

    private static Task BackoffInterruptedAsync(HttpContext context, ProxyRequestFeature feature, CancellationTokenSource? timeout)
    {
        if (timeout?.IsCancellationRequested == true)
        {
            // The route timeout covers every attempt and the waits between them.
            return LocalReplies.TimeoutAsync(context, feature);
        }

        feature.Flags |= ResponseFlags.DownstreamConnectionTermination;
        return Task.CompletedTask;
    }

    /// <summary>The route timeout, or the request's x-envoy-upstream-rq-timeout-ms when that is stricter.</summary>
    private static TimeSpan? EffectiveTimeout(CompiledRoute? route, HttpRequest request)
    {
        var routeTimeout = route is null ? null : Grpc.GrpcDeadline.Cap(route.Timeout, request);
        if (route is null || !request.Headers.TryGetValue(TimeoutHeader, out var header) || header.Count != 1
            || !long.TryParse(header[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms) || ms <= 0)
        {
            return routeTimeout;
        }

        var requested = TimeSpan.FromMilliseconds(ms);
        return routeTimeout is { } r && r < requested ? r : requested;
    }

    private static bool IsRefusedStream(HttpRequestException e)
    {
        for (Exception? cause = e; cause is not null; cause = cause.InnerException)
        {
            if (cause is HttpProtocolException { ErrorCode: 0x7 })
            {
                return true;
            }
        }

        return false;
    }


    /// <summary>The upstream pool a cluster's requests (and mirror copies) go through: its own, else the shared one.</summary>
    internal HttpMessageInvoker ClientFor(CompiledCluster cluster) => cluster.Client ?? client;

    /// <summary>The upstream request for one try — also the base of a mirror copy, so both carry the same headers and edits.</summary>
    internal static HttpRequestMessage CreateRequest(HttpContext context, HttpMethod method, CompiledCluster cluster, UpstreamEndpoint endpoint, string target,
        HttpContent? body, CompiledRoute? route, CompiledHeaderPolicy? destinationHeaders)
    {
        // HttpClient cannot send the asterisk-form (its request target is an absolute URI): "OPTIONS *" goes as "OPTIONS /".
        var request = new HttpRequestMessage(method, endpoint.UriFor(target == OriginForm.Asterisk ? "/" : target))
        {
            Version = cluster.HttpVersion,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = body,
        };
        if (cluster.CloseConnections)
        {
            // maxRequestsPerConnection 1: the upstream connection serves this request only.
            request.Headers.ConnectionClose = true;
        }

        var headers = context.Request.Headers;
        var connectionTokens = headers.Connection;
        foreach (var (name, values) in headers)
        {
            if (!IsForwarded(name, connectionTokens))
            {
                continue;
            }

            var added = values.Count == 1
                ? request.Headers.TryAddWithoutValidation(name, values[0])
                : request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            if (!added && body is not null)
            {
                // Content-* headers belong to the content object.
                body.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        // The app sees the authority its client used (e.g. "reviews:9080"), not the endpoint address — unless the route
        // rewrites it.
        request.Headers.Host = route?.Rewrite?.Authority ?? context.Request.Host.Value;
        if (headers.TE.ToString().Contains("trailers", StringComparison.OrdinalIgnoreCase))
        {
            request.Headers.TryAddWithoutValidation("TE", "trailers");
        }

        if (!headers.ContainsKey("x-forwarded-proto"))
        {
            // Not Request.Scheme: it claims https for h2c connections too (see H2cPriorKnowledge).
            request.Headers.TryAddWithoutValidation("x-forwarded-proto", DownstreamTls.Scheme(context));
        }

        // Envoy's default order: the destination's edits first, then the route's (so the route's set wins).
        destinationHeaders?.Request?.Apply(request);
        route?.Headers?.Request?.Apply(request);
        return request;
    }

    /// <summary>Whether a downstream request header goes upstream: not a pseudo-header, hop-by-hop, Connection-listed or consumed.</summary>
    internal static bool IsForwarded(string name, StringValues connectionTokens) =>
        !name.StartsWith(':') && !HopByHopHeaders.Contains(name) && !IsListed(connectionTokens, name) && !IsConsumed(name);

    /// <summary>
    /// Envoy's request headers that steer the proxy itself: read here, never forwarded. The peer-metadata headers are
    /// among them: an inbound proxy must not hand them to its app, and an outbound one sets its own.
    /// </summary>
    private static bool IsConsumed(string name) =>
        name.Length > 8 && (name[0] == 'x' || name[0] == 'X')
        && (name.Equals(TimeoutHeader, StringComparison.OrdinalIgnoreCase) || name.Equals(CompiledRetryPolicy.RetriableStatusCodesHeader, StringComparison.OrdinalIgnoreCase)
            || Telemetry.Metrics.PeerMetadata.IsPeerHeader(name));

    /// <summary>Istio's metadata exchange: outbound and gateway proxies tell a mesh endpoint's proxy who is calling.</summary>
    private static void AddPeerMetadata(HttpRequestMessage request, ProxyRequestFeature feature, UpstreamEndpoint endpoint)
    {
        if (PeerMetadataFor(feature, endpoint) is { } peer)
        {
            request.Headers.TryAddWithoutValidation(Telemetry.Metrics.PeerMetadata.IdHeader, peer.Id);
            request.Headers.TryAddWithoutValidation(Telemetry.Metrics.PeerMetadata.Header, peer.Metadata);
        }
    }

    /// <summary>This proxy's peer id and metadata when the endpoint is a mesh workload; null otherwise.</summary>
    internal static (string Id, string Metadata)? PeerMetadataFor(ProxyRequestFeature feature, UpstreamEndpoint endpoint) =>
        endpoint.Workload is not null && feature.Listener?.Telemetry is { PeerMetadata: { } metadata, PeerId: { } id } ? (id, metadata) : null;

    private static bool IsListed(StringValues connectionTokens, string name)
    {
        if (connectionTokens.Count == 0)
        {
            return false;
        }

        foreach (var value in connectionTokens)
        {
            if (HeaderTokens.Lists(value, name))
            {
                return true;
            }
        }

        return false;
    }

    internal static async Task CopyResponseAsync(HttpContext context, ProxyRequestFeature feature, HttpResponseMessage response, ResponseEdits edits, CancellationTokenSource? timeout, CancellationToken token)
    {
        var downstream = context.Response;
        downstream.StatusCode = (int)response.StatusCode;
        var sawConnection = CopyHeaders(response.Headers, downstream.Headers);
        CopyHeaders(response.Content.Headers, downstream.Headers);
        if (sawConnection && response.Headers.NonValidated.TryGetValues("Connection", out var connection))
        {
            DropConnectionListed(connection, downstream.Headers);
        }

        FinishResponseHeaders(context, feature, edits);
        try
        {
            await using var upstream = await response.Content.ReadAsStreamAsync(token);
            if (response.Content.Headers.ContentLength is null)
            {
                // A body of unknown length may be a stream (server-sent events): the client gets the headers now.
                // With a known length the first body write carries them: one send instead of two.
                // StartAsync alone leaves them in Kestrel's buffer; a bidi client may wait on them before it sends.
                await downstream.StartAsync(token);
                await downstream.Body.FlushAsync(token);
            }

            if (response.Content.Headers.ContentLength is null || BodyCounter.IsGrpc(response.Content.Headers.ContentType?.MediaType))
            {
                // Unknown length (chunked, HTTP/2 streams) or gRPC: counted while copying, for istio_response_bytes,
                // istio_response_messages_total and the access log's %BYTES_SENT%.
                await BodyCounter.CopyAsync(upstream, downstream.Body, feature, isResponse: true, token);
            }
            else
            {
                await upstream.CopyToAsync(downstream.Body, token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
            ResponseBodyFailed(context, feature, timeout);
            return;
        }

        if (response.TrailingHeaders.NonValidated.Count > 0 && downstream.SupportsTrailers())
        {
            foreach (var (name, values) in response.TrailingHeaders.NonValidated)
            {
                downstream.AppendTrailer(name, ToStringValues(values));
            }
        }
    }

    /// <summary>What every upstream response gets once its own headers are copied: Envoy's service time, the route's edits, a hash cookie.</summary>
    internal static void FinishResponseHeaders(HttpContext context, ProxyRequestFeature feature, ResponseEdits edits)
    {
        var headers = context.Response.Headers;
        if (feature.UpstreamServiceTime is { } serviceTime)
        {
            // Envoy's router adds it to every upstream response: the upstream's time to answer, in whole milliseconds.
            headers[UpstreamServiceTimeHeader] = ((long)serviceTime.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        edits.Apply(headers);
        if (feature.SetCookie is { } cookie)
        {
            headers.Append("set-cookie", cookie);
        }

        // Stream as it arrives: server-sent events and long downloads must not wait on a buffer.
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
    }

    /// <summary>The body broke off after the headers went out: flag who ended it, and make the truncation visible.</summary>
    internal static void ResponseBodyFailed(HttpContext context, ProxyRequestFeature feature, CancellationTokenSource? timeout)
    {
        feature.Flags |= context.RequestAborted.IsCancellationRequested ? ResponseFlags.DownstreamConnectionTermination
            : timeout?.IsCancellationRequested == true ? ResponseFlags.UpstreamRequestTimeout
            : ResponseFlags.UpstreamConnectionTermination;

        // Headers are gone already: a truncated response must not look complete to the client.
        context.Abort();
    }

    /// <returns>Whether a Connection field was among them (it may name more hop-by-hop fields).</returns>
    private static bool CopyHeaders(System.Net.Http.Headers.HttpHeaders from, IHeaderDictionary to)
    {
        var sawConnection = false;
        foreach (var (name, values) in from.NonValidated)
        {
            if (!HopByHopHeaders.Contains(name))
            {
                to[name] = ToStringValues(values);
            }
            else
            {
                sawConnection |= name.Equals("Connection", StringComparison.OrdinalIgnoreCase);
            }
        }

        return sawConnection;
    }

    /// <summary>The fields an HTTP/1.1 upstream's Connection names are hop-by-hop too (RFC 9110 §7.6.1): not passed on.</summary>
    private static void DropConnectionListed(System.Net.Http.Headers.HeaderStringValues connection, IHeaderDictionary headers)
    {
        foreach (var value in connection)
        {
            foreach (var range in value.AsSpan().Split(','))
            {
                var token = value.AsSpan()[range].Trim(" \t");
                if (token.Length > 0)
                {
                    headers.Remove(token.ToString());
                }
            }
        }
    }

    private static StringValues ToStringValues(System.Net.Http.Headers.HeaderStringValues values)
    {
        if (values.Count == 1)
        {
            return values.ToString();
        }

        var array = new string[values.Count];
        var i = 0;
        foreach (var value in values)
        {
            array[i++] = value;
        }

        return array;
    }
}
