using Bowline.Api.Xds;
using Bowline.Proxy.Config;
using Bowline.Proxy.Telemetry.AccessLog;

namespace Bowline.Proxy.Telemetry;

/// <summary>A pushed telemetry section the proxy cannot honour is refused with the rest of the config (a NACK).</summary>
internal static class TelemetryValidation
{
    /// <exception cref="ConfigException">Why the section is refused.</exception>
    public static void Check(TelemetryConfig? telemetry)
    {
        if (telemetry?.AccessLog is { } log)
        {
            if (string.IsNullOrEmpty(log.Path))
            {
                throw new ConfigException("access log: empty path");
            }

            AccessLogFormatter.Compile(log);
        }

        if (telemetry?.Tracing is { } tracing)
        {
            if (tracing.SamplingPercentage is < 0 or > 100 || double.IsNaN(tracing.SamplingPercentage))
            {
                throw new ConfigException($"tracing: sampling percentage {tracing.SamplingPercentage} is outside 0-100");
            }

            if (!Uri.TryCreate(tracing.Endpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme != Uri.UriSchemeHttp)
            {
                throw new ConfigException($"tracing: collector endpoint \"{tracing.Endpoint}\" is not an http:// URL");
            }
        }
    }
}
