using System.Globalization;
using Bowline.Api.Yaml;

namespace Bowline.Api.Validation;

/// <summary>Field checks several kinds share, each phrased as Istio's validation phrases it.</summary>
internal static class Checks
{
    private static readonly TimeSpan MinDuration = TimeSpan.FromMilliseconds(1);

    public static void Port(Reporter reporter, string path, int? port)
    {
        if (port is { } p && p is < 1 or > 65535)
        {
            reporter.Report(path, $"port number {p} is out of range 1-65535");
        }
    }

    public static void Percentage(Reporter reporter, string path, double? value)
    {
        if (value is { } v && v is < 0 or > 100)
        {
            reporter.Report(path, $"percentage {v.ToString(CultureInfo.InvariantCulture)} is out of range 0-100");
        }
    }

    public static void NonNegative(Reporter reporter, string path, long? value)
    {
        if (value is < 0)
        {
            reporter.Report(path, $"must not be negative, got {value}");
        }
    }

    /// <summary>Istio refuses durations under a millisecond: Envoy's timers cannot honour them.</summary>
    public static void Duration(Reporter reporter, string path, TimeSpan? value)
    {
        if (value is { } d && d < MinDuration)
        {
            reporter.Report(path, $"duration must be at least 1ms, got {Durations.Format(d)}");
        }
    }

    public static void Required(Reporter reporter, string path, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            reporter.Report(path, "required field is missing");
        }
    }

    public static void NonEmpty<T>(Reporter reporter, string path, IReadOnlyCollection<T> items, string what)
    {
        if (items.Count == 0)
        {
            reporter.Report(path, $"at least one {what} is required");
        }
    }
}
