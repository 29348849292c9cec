using Bowline.Proxy.Listeners.Tls;
using Bowline.Proxy.LoadBalancing;
using Bowline.Proxy.Pipeline;
using Bowline.Proxy.Routing;
using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Forwarding.Http1;

/// <summary>
/// Bowline's own HTTP/1.1 upstream client, for the common case: plaintext HTTP/1.1 to a cluster's endpoints without
/// connectionPool settings. It does what HttpClient did there (same headers upstream, same errors to the forwarder:
/// <see cref="HttpRequestException"/> with ConnectionError / ResponseEnded / InvalidResponse) without its per-request
/// objects — no HttpRequestMessage, Uri, HttpHeaders or response message — which is most of what a proxied request
/// cost on top of Kestrel (bench/README.md, "Tuning log").
/// </summary>
internal static class Http1Client
{
    /// <summary>
    /// Sends the request (head, then the body streamed alongside reading the answer) and returns the connection once
    /// the final response head has arrived. A reused connection that fails before any response byte was most likely
    /// closed by the upstream while idle: a request whose body has not started goes out once more on a new connection.
    /// </summary>
    public static async ValueTask<UpstreamResponse> SendAsync(HttpContext context, ProxyRequestFeature feature, UpstreamEndpoint endpoint, string target,
        RequestBodyContent? body, CompiledRoute? route, CompiledHeaderPolicy? destinationHeaders, CancellationToken token)
    {
        var pool = endpoint.Http1Pool;
        var chunked = body is not null && context.Request.ContentLength is null;
        using var head = BuildHead(context, feature, endpoint, target, chunked, route, destinationHeaders);
        var isHead = HttpMethods.IsHead(context.Request.Method);
        for (var fresh = false; ; fresh = true)
        {
            var connection = fresh ? null : pool.TryRent();
            connection ??= await pool.ConnectAsync(token);
            var reused = connection.Exchanges > 0;
            try
            {
                await connection.SendAsync(head.Written, token);
                if (body is null)
                {
                    await connection.ReadHeadAsync(isHead, token);
                }
                else
                {
                    await SendBodyAndReadHeadAsync(connection, body, chunked, isHead, token);
                }

                return connection;
            }
            catch (Http1ConnectionException e) when (reused && e.BeforeResponse && (body is null || !body.Started))
            {
                connection.Close();
            }
            catch (Http1ConnectionException e)
            {
                connection.Close();
                throw new HttpRequestException(HttpRequestError.ResponseEnded, e.Message, e);
            }
            catch (Http1ProtocolException e)
            {
                connection.Close();
                throw new HttpRequestException(HttpRequestError.InvalidResponse, $"invalid upstream response: {e.Message}", e);
            }
            catch
            {
                connection.Close();
                throw;
            }
        }
    }

    /// <summary>
    /// The body goes out while the response head is awaited: an upstream may answer (413, 401) before reading it all.
    /// A body send that fails first ends the exchange with its error — a malformed downstream body is the client's 400.
    /// </summary>
    private static async Task SendBodyAndReadHeadAsync(Http1Connection connection, RequestBodyContent body, bool chunked, bool isHead, CancellationToken token)
    {
        // Its own token: a send still reading the downstream body when the exchange ends is stopped before the request
        // does (Kestrel reuses the body stream for the connection's next request).
        var sendCancel = CancellationTokenSource.CreateLinkedTokenSource(token);
        var send = SendBodyAsync(connection, body, chunked, sendCancel.Token);
        connection.TrackRequestBody(send, sendCancel);
        var read = connection.ReadHeadAsync(isHead, token).AsTask();
        if (await Task.WhenAny(send, read) == send && !send.IsCompletedSuccessfully)
        {
            connection.Close();
            // The head read fails now the socket is closed; nobody waits on it.
            _ = read.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
            try
            {
                await send;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw new HttpRequestException(HttpRequestError.Unknown, "sending the request body failed", e);
            }
        }

        await read;
    }

    private static async Task SendBodyAsync(Http1Connection connection, RequestBodyContent body, bool chunked, CancellationToken token)
    {
        if (!chunked)
        {
            await body.CopyToAsync(connection.Stream, token);
            return;
        }

        await using var encoder = new ChunkedWriteStream(connection.Stream);
        await body.CopyToAsync(encoder, token);
        await encoder.EndAsync(token);
    }

    private const string ForwardedProto = "x-forwarded-proto";

    /// <summary>What <see cref="Forwarder.CreateRequest"/> puts on an HttpRequestMessage, as HTTP/1.1 bytes.</summary>
    private static Http1RequestHead BuildHead(HttpContext context, ProxyRequestFeature feature, UpstreamEndpoint endpoint, string target, bool chunked,
        CompiledRoute? route, CompiledHeaderPolicy? destinationHeaders)
    {
        var request = context.Request;
        var head = new Http1RequestHead(2048);
        try
        {
            head.RequestLine(request.Method, target);
            var edits = destinationHeaders?.Request is not null || route?.Headers?.Request is not null;
            var fields = edits ? new List<KeyValuePair<string, string>>() : null;
            void Add(string name, string value)
            {
                if (fields is null)
                {
                    head.Header(name, value);
                }
                else
                {
                    fields.Add(new(name, value));
                }
            }

            // The app sees the authority its client used (e.g. "reviews:9080"), not the endpoint address — unless the
            // route rewrites it.
            // An HTTP/1.0 request may come without one: then the endpoint's authority, as HttpClient derived it from the URI.
            var host = route?.Rewrite?.Authority ?? request.Host.Value;
            Add("Host", string.IsNullOrEmpty(host) ? endpoint.UriPrefix["http://".Length..] : host);
            var headers = request.Headers;
            var connectionTokens = headers.Connection;
            var hasForwardedProto = false;
            foreach (var (name, values) in headers)
            {
                hasForwardedProto |= name.Length == ForwardedProto.Length && name.Equals(ForwardedProto, StringComparison.OrdinalIgnoreCase);
                if (!Forwarder.IsForwarded(name, connectionTokens))
                {
                    continue;
                }

                // One field line per name, values comma-joined, as HttpClient sent them (RFC 9110 §5.3).
                Add(name, values.Count == 1 ? values[0] ?? "" : string.Join(", ", values.ToArray()));
            }

            if (headers.TE.ToString().Contains("trailers", StringComparison.OrdinalIgnoreCase))
            {
                Add("TE", "trailers");
            }

            if (!hasForwardedProto)
            {
                Add(ForwardedProto, feature.DownstreamTls ? "https" : "http");
            }

            if (Forwarder.PeerMetadataFor(feature, endpoint) is { } peer)
            {
                if (fields is null && feature.Listener?.Telemetry.PeerHeaderLines is { } lines)
                {
                    head.Raw(lines);
                }
                else
                {
                    Add(Telemetry.Metrics.PeerMetadata.IdHeader, peer.Id);
                    Add(Telemetry.Metrics.PeerMetadata.Header, peer.Metadata);
                }
            }

            if (fields is not null)
            {
                // Envoy's default order: the destination's edits first, then the route's (so the route's set wins).
                destinationHeaders?.Request?.Apply(fields);
                route?.Headers?.Request?.Apply(fields);
                for (var i = 0; i < fields.Count; i++)
                {
                    var (name, value) = fields[i];
                    for (var j = i + 1; j < fields.Count; j++)
                    {
                        if (fields[j].Key.Equals(name, StringComparison.OrdinalIgnoreCase))
                        {
                            value += ", " + fields[j].Value;
                            fields.RemoveAt(j--);
                        }
                    }

                    head.Header(name, value);
                }
            }

            if (chunked)
            {
                head.Header("Transfer-Encoding", "chunked");
            }

            head.End();
            return head;
        }
        catch
        {
            head.Dispose();
            throw;
        }
    }
}
