using System.Net;
using System.Text.RegularExpressions;

namespace Bowline.Api.Validation;

/// <summary>Istio's host syntax: a DNS name whose leftmost label may be "*" (or "*" alone, or an IP address).</summary>
internal static partial class HostRules
{
    /// <summary>Checks a host; Gateway hosts may carry a namespace prefix ("ns/host", "./host", "*/host").</summary>
    public static void Check(Reporter reporter, string path, string host, bool allowNamespace = false)
    {
        if (host.Length == 0)
        {
            return;
        }
        var name = host;
        if (allowNamespace && host.IndexOf('/', StringComparison.Ordinal) is var slash and >= 0)
        {
            var ns = host[..slash];
            name = host[(slash + 1)..];
            if (ns is not ("*" or ".") && !NameRules.IsDns1123Label(ns))
            {
                reporter.Report(path, $"invalid host \"{host}\": \"{ns}\" is not a namespace");
                return;
            }
        }
        if (name == "*" || IPAddress.TryParse(name, out _))
        {
            return;
        }
        var domain = name.StartsWith("*.", StringComparison.Ordinal) ? name[2..] : name;
        // A partial wildcard ("*foo.com") is refused by Istio: "*" must be a whole label.
        if (name.Length > 255 || !Domain().IsMatch(domain))
        {
            reporter.Report(path, $"invalid host \"{host}\": expected a DNS name, optionally starting with \"*.\"");
        }
    }

    /// <summary>A plain DNS name (no wildcard, no IP): what Istio's ValidateFQDN accepts for DNS resolution.</summary>
    public static bool IsFqdn(string name) => name.Length is > 0 and <= 255 && !name.Contains('*', StringComparison.Ordinal) && Domain().IsMatch(name);

    [GeneratedRegex("^[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?(\\.[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)*\\.?$")]
    private static partial Regex Domain();
}
