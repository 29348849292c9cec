using Bowline.Api.Xds;
using Bowline.Proxy.Config;
using Bowline.Proxy.LoadBalancing;

namespace Bowline.Proxy.Routing;

/// <summary>A route's validated fault policy, with its percentages as per-million thresholds for the random seam.</summary>
internal sealed class CompiledFault
{
    // Istio hands Envoy percentages as fractions per million, so 0.0001% is the finest share that still means something.
    private const int PerMillion = 1_000_000;

    private readonly int _delayThreshold;
    private readonly int _abortThreshold;

    private CompiledFault(TimeSpan? delay, int delayThreshold, int? httpStatus, int? grpcStatus, int abortThreshold)
    {
        Delay = delay;
        _delayThreshold = delayThreshold;
        HttpStatus = httpStatus;
        GrpcStatus = grpcStatus;
        _abortThreshold = abortThreshold;
    }

    /// <summary>The delay to inject when drawn; null when the policy has none.</summary>
    public TimeSpan? Delay { get; }
    /// <summary>The abort's HTTP status; null for a gRPC abort or none.</summary>
    public int? HttpStatus { get; }
    /// <summary>The abort's gRPC status code (answered as HTTP 200); null for an HTTP abort or none.</summary>
    public int? GrpcStatus { get; }

    /// <exception cref="ConfigException">The policy is out of range; the message says where.</exception>
    public static CompiledFault? Compile(FaultPolicy? fault, string where)
    {
        if (fault is null || (fault.Delay is null && fault.Abort is null))
        {
            return null;
        }

        TimeSpan? delay = null;
        var delayThreshold = 0;
        if (fault.Delay is { } d)
        {
            if (d.FixedDelay < TimeSpan.Zero)
            {
                throw new ConfigException($"{where}: fault delay must not be negative");
            }

            delay = d.FixedDelay;
            delayThreshold = Threshold(d.Percentage, $"{where}: fault delay");
        }

        int? httpStatus = null, grpcStatus = null;
        var abortThreshold = 0;
        if (fault.Abort is { } a)
        {
            (httpStatus, grpcStatus) = (a.HttpStatus, a.GrpcStatus) switch
            {
                ({ } status and >= 200 and <= 599, null) => ((int?)status, (int?)null),
                ({ } status, null) => throw new ConfigException($"{where}: fault abort HTTP status {status} is out of range 200-599"),
                (null, { } code and >= 0 and <= 16) => ((int?)null, code),
                (null, { } code) => throw new ConfigException($"{where}: fault abort gRPC status {code} is out of range 0-16"),
                _ => throw new ConfigException($"{where}: fault abort needs exactly one of httpStatus and grpcStatus"),
            };
            abortThreshold = Threshold(a.Percentage, $"{where}: fault abort");
        }

        return new CompiledFault(delay, delayThreshold, httpStatus, grpcStatus, abortThreshold);
    }

    /// <summary>Whether this request gets the delay: one draw, as Envoy's runtime fraction check makes.</summary>
    public bool DrawDelay(IRandomSource random) => Delay is not null && Draw(_delayThreshold, random);

    /// <summary>Whether this request gets the abort: a draw of its own, independent of the delay's.</summary>
    public bool DrawAbort(IRandomSource random) => (HttpStatus is not null || GrpcStatus is not null) && Draw(_abortThreshold, random);

    // 0% and 100% need no draw, which keeps a seeded random's sequence for the draws that matter.
    private static bool Draw(int threshold, IRandomSource random) =>
        threshold >= PerMillion || (threshold > 0 && random.Next(PerMillion) < threshold);

    private static int Threshold(double percentage, string what)
    {
        if (double.IsNaN(percentage) || percentage is < 0 or > 100)
        {
            throw new ConfigException($"{what} percentage {percentage.ToString(System.Globalization.CultureInfo.InvariantCulture)} is out of range 0-100");
        }

        return (int)Math.Round(percentage * (PerMillion / 100));
    }
}
