using System.Globalization;

namespace Bowline.Api.Yaml;

/// <summary>Go's time.ParseDuration syntax, which Istio accepts for every duration field: "1.5s", "100ms", "1h30m".</summary>
internal static class Durations
{
    private static readonly (string Unit, double Ticks)[] Units =
    [
        // Longest first so "ms" is not read as "m" followed by garbage.
        ("ns", 0.01), ("us", 10), ("µs", 10), ("μs", 10), ("ms", TimeSpan.TicksPerMillisecond),
        ("s", TimeSpan.TicksPerSecond), ("m", TimeSpan.TicksPerMinute), ("h", TimeSpan.TicksPerHour),
    ];

    public static bool TryParse(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        // Go accepts a bare "0"; every other number needs a unit. Signs are refused: no Istio duration may be negative.
        if (text == "0")
        {
            return true;
        }
        if (text.Length == 0)
        {
            return false;
        }
        double ticks = 0;
        var i = 0;
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
            {
                i++;
            }
            if (i == start || !double.TryParse(text.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                return false;
            }
            var unit = Array.FindIndex(Units, u => text.AsSpan(i).StartsWith(u.Unit, StringComparison.Ordinal));
            if (unit < 0)
            {
                return false;
            }
            i += Units[unit].Unit.Length;
            ticks += number * Units[unit].Ticks;
        }
        if (ticks > TimeSpan.MaxValue.Ticks)
        {
            return false;
        }
        value = TimeSpan.FromTicks((long)Math.Round(ticks));
        return true;
    }

    /// <summary>The Go spelling of a duration, for messages ("1ms", "1.5s").</summary>
    public static string Format(TimeSpan value) =>
        value.TotalSeconds >= 1
            ? value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s"
            : value.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + "ms";
}
