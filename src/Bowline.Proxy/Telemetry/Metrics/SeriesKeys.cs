using Bowline.Proxy.Pipeline;

namespace Bowline.Proxy.Telemetry.Metrics;

/// <summary>
/// What identifies an HTTP series: interned label parts compared by reference plus a few small values. A record struct
/// compares and hashes its fields without boxing, so looking up an existing series allocates nothing.
/// </summary>
/// <param name="GrpcStatus">-1 for a non-gRPC request (label empty), -2 for gRPC without a status ("unknown").</param>
internal readonly record struct HttpSeriesKey(
    bool SourceReporter, LabelPart Source, LabelPart Destination, bool Grpc, int ResponseCode, int GrpcStatus, ResponseFlags Flags);

internal readonly record struct TcpSeriesKey(bool SourceReporter, LabelPart Source, LabelPart Destination, ResponseFlags Flags);
