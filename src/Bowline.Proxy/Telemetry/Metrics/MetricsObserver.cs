using System.Diagnostics;
using Bowline.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Bowline.Proxy.Telemetry.Metrics;

/// <summary>
/// Records every finished request into Istio's standard metrics. Labels come from what was resolved per config (the
/// listener's side and workload, the cluster's and endpoint's destination labels) and, inbound, from the caller's
/// peer-metadata header; nothing here builds a string for a series that exists already (see <see cref="ProxyMetrics"/>).
/// </summary>
internal sealed class MetricsObserver(ProxyMetrics metrics) : IRequestObserver
{
    private const string GrpcStatus = "grpc-status";

    public void OnRequestCompleted(HttpContext context, ProxyRequestFeature feature)
    {
        if (feature.Listener is not { } listener)
        {
            return; // a request on a draining listener belongs to no config, as in Envoy
        }

        var t = listener.Telemetry;
        LabelPart source, destination;
        if (t.Inbound)
        {
            destination = t.Local;
            source = context.Request.Headers.TryGetValue(PeerMetadata.Header, out var peer) && peer.Count == 1 && peer[0] is { } value
                ? metrics.Peers.Source(value)
                : WorkloadLabels.UnknownSource;
        }
        else
        {
            source = t.Local;
            destination = feature.Endpoint?.MetricLabels
                ?? feature.Cluster?.MetricLabels
                // Answered before a cluster was picked (a fault abort): the route's service, endpoint unknown.
                ?? (feature.Route?.Destinations is { } d ? d[0].MetricLabels : WorkloadLabels.UnknownDestination);
        }

        var grpc = Forwarding.BodyCounter.IsGrpc(context.Request.ContentType);
        var response = context.Response;
        var flags = feature.Flags;
        // A client that left before any answer got none: Envoy reports response code 0.
        var code = (flags & ResponseFlags.DownstreamConnectionTermination) != 0 && !response.HasStarted ? 0 : response.StatusCode;
        var key = new HttpSeriesKey(!t.Inbound, source, destination, grpc, code, grpc ? GrpcStatusOf(context) : -1, flags);

        var requestBytes = feature.RequestBodyBytes >= 0 ? feature.RequestBodyBytes : context.Request.ContentLength ?? 0;
        var responseBytes = feature.ResponseBodyBytes >= 0 ? feature.ResponseBodyBytes : response.ContentLength ?? 0;
        var duration = Stopwatch.GetElapsedTime(feature.StartTimestamp).TotalMilliseconds;
        metrics.Http(key).Record(duration, requestBytes, responseBytes,
            grpc ? feature.RequestMessages : 0, grpc ? feature.ResponseMessages : 0);
    }

    /// <summary>grpc-status from the trailers, else from the headers (a trailers-only answer); -2 when there is none.</summary>
    private static int GrpcStatusOf(HttpContext context)
    {
        if (context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers is { } trailers
            && trailers.TryGetValue(GrpcStatus, out var t) && int.TryParse(t.ToString(), out var fromTrailers))
        {
            return fromTrailers;
        }

        return context.Response.Headers.TryGetValue(GrpcStatus, out var h) && int.TryParse(h.ToString(), out var fromHeaders) ? fromHeaders : -2;
    }
}
