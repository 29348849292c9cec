using System.Globalization;
using System.Net;

namespace Bowline.ControlPlane;

/// <summary>Command line: --listen host:port --state-dir DIR [--debounce 100ms].</summary>
internal sealed record ControlPlaneOptions(IPEndPoint Listen, string StateDir, TimeSpan Debounce)
{
    public const string Usage = "usage: Bowline.ControlPlane --listen 127.0.0.1:<port> --state-dir <dir> [--debounce 100ms]";

    /// <summary>Longest a push may wait while changes keep coming.</summary>
    public TimeSpan MaxDebounce => Debounce > TimeSpan.FromSeconds(1) ? Debounce : TimeSpan.FromSeconds(1);

    public static ControlPlaneOptions Parse(IReadOnlyList<string> args)
    {
        IPEndPoint? listen = null;
        string? stateDir = null;
        var debounce = TimeSpan.FromMilliseconds(100);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{arg} needs a value");
            switch (arg)
            {
                case "--listen":
                    var v = Value();
                    if (!IPEndPoint.TryParse(v, out listen) || v.LastIndexOf(':') < 0)
                    {
                        throw new ArgumentException($"--listen {v}: expected host:port, e.g. 127.0.0.1:15010");
                    }

                    break;
                case "--state-dir":
                    stateDir = Value();
                    break;
                case "--debounce":
                    var d = Value();
                    debounce = ParseDuration(d) ?? throw new ArgumentException($"--debounce {d}: expected a duration such as 100ms or 1s");
                    break;
                default:
                    throw new ArgumentException($"unknown argument {arg}");
            }
        }

        if (listen is null)
        {
            throw new ArgumentException("--listen is required");
        }

        if (string.IsNullOrWhiteSpace(stateDir))
        {
            throw new ArgumentException("--state-dir is required");
        }

        return new ControlPlaneOptions(listen, Path.GetFullPath(stateDir), debounce);
    }

    private static TimeSpan? ParseDuration(string s)
    {
        (string Suffix, double Ms)[] units = [("ms", 1), ("s", 1000), ("m", 60_000)];
        foreach (var (suffix, ms) in units)
        {
            if (s.EndsWith(suffix, StringComparison.Ordinal)
                && double.TryParse(s.AsSpan(0, s.Length - suffix.Length), NumberStyles.Float, CultureInfo.InvariantCulture, out var n)
                && n >= 0)
            {
                return TimeSpan.FromMilliseconds(n * ms);
            }
        }

        return null;
    }
}
