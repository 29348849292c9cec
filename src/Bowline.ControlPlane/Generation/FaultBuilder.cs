using Bowline.Api.Resources;
using Bowline.Api.Xds;
using XFaultAbort = Bowline.Api.Xds.FaultAbort;
using XFaultDelay = Bowline.Api.Xds.FaultDelay;

namespace Bowline.ControlPlane.Generation;

/// <summary>Translates a VirtualService route's <c>fault</c> into the pushed <see cref="FaultPolicy"/>, as Istio does for Envoy's fault filter.</summary>
internal static class FaultBuilder
{
    /// <summary>The route's fault policy, or null when it has none (or nothing in it Bowline can inject).</summary>
    /// <param name="where">"ns/vs: route name", prefixing notes about parts that are dropped.</param>
    public static FaultPolicy? Build(HTTPFaultInjection? fault, string where, List<string> notes)
    {
        if (fault is null)
        {
            return null;
        }

        XFaultDelay? delay = null;
        if (fault.Delay is { } d)
        {
            if (d.FixedDelay is { } fixedDelay)
            {
                delay = new XFaultDelay { FixedDelay = fixedDelay, Percentage = Percentage(d.Percentage, d.Percent) };
            }
            else
            {
                // Istio itself rejects exponentialDelay at translation ("not supported"); say so rather than drop it silently.
                notes.Add($"{where}: fault.delay skipped: only fixedDelay is supported");
            }
        }

        XFaultAbort? abort = null;
        if (fault.Abort is { } a)
        {
            var percentage = Percentage(a.Percentage, a.Percent);
            if (a.HttpStatus is { } status)
            {
                abort = new XFaultAbort { HttpStatus = status, Percentage = percentage };
            }
            else if (a.GrpcStatus is { } name && GrpcStatusCodes.TryGetCode(name, out var code))
            {
                abort = new XFaultAbort { GrpcStatus = code, Percentage = percentage };
            }
            else
            {
                // http2Error (a stream reset) has no equivalent in the proxy; an unknown grpcStatus fails validation first.
                notes.Add($"{where}: fault.abort skipped: only httpStatus and grpcStatus are supported");
            }
        }

        return delay is null && abort is null ? null : new FaultPolicy { Delay = delay, Abort = abort };
    }

    // percentage.value wins over the deprecated integer percent; with neither, every request gets the fault.
    private static double Percentage(Percent? percentage, int? percent) => percentage?.Value ?? percent ?? 100;
}
