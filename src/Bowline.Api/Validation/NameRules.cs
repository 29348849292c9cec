using System.Text.RegularExpressions;
using Bowline.Api.Resources;

namespace Bowline.Api.Validation;

/// <summary>Object names as the Kubernetes API server requires them (Istio's CRDs included).</summary>
internal static partial class NameRules
{
    public static void Check(Resource resource, Reporter reporter)
    {
        var name = resource.Metadata.Name;
        // Services become DNS labels (name.ns.svc.cluster.local), so they are RFC 1035 labels; other kinds are subdomains.
        if (resource is KubeService)
        {
            if (name.Length > 63 || !Dns1035Label().IsMatch(name))
            {
                reporter.Report("metadata.name", $"\"{name}\" is not a valid Service name: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with a letter, end with an alphanumeric character, and be at most 63 characters");
            }
        }
        else if (name.Length > 253 || !Dns1123Subdomain().IsMatch(name))
        {
            reporter.Report("metadata.name", $"\"{name}\" is not a valid name: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character");
        }
        if (resource.Metadata.Namespace is { Length: > 0 } ns && !IsDns1123Label(ns))
        {
            reporter.Report("metadata.namespace", $"\"{ns}\" is not a valid namespace: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', start and end with an alphanumeric character, and be at most 63 characters");
        }
    }

    public static bool IsDns1123Label(string value) => value.Length <= 63 && Dns1123Label().IsMatch(value);

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1123Label();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex Dns1123Subdomain();

    [GeneratedRegex("^[a-z]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1035Label();
}
