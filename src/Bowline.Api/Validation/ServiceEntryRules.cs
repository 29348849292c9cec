using Bowline.Api.Resources;

namespace Bowline.Api.Validation;

/// <summary>ServiceEntry checks, after Istio's validateServiceEntry.</summary>
internal static class ServiceEntryRules
{
    public static void Check(ServiceEntrySpec spec, Reporter r)
    {
        Checks.NonEmpty(r, "spec.hosts", spec.Hosts, "host");
        for (var i = 0; i < spec.Hosts.Count; i++)
        {
            Checks.Required(r, $"spec.hosts[{i}]", spec.Hosts[i]);
            HostRules.Check(r, $"spec.hosts[{i}]", spec.Hosts[i]);
        }
        var portNames = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < spec.Ports.Count; i++)
        {
            GatewayRules.Port(spec.Ports[i], $"spec.ports[{i}]", r);
            if (spec.Ports[i].Name.Length > 0 && !portNames.Add(spec.Ports[i].Name))
            {
                r.Report($"spec.ports[{i}].name", $"duplicate port name \"{spec.Ports[i].Name}\"");
            }
        }
        // STATIC means "these addresses are the service": without them there is nothing to send traffic to.
        if (spec.Resolution == ServiceEntryResolution.Static && spec.Endpoints.Count == 0 && spec.WorkloadSelector is null)
        {
            r.Report("spec.endpoints", "resolution STATIC requires endpoints with addresses");
        }
        for (var i = 0; i < spec.Endpoints.Count; i++)
        {
            var endpoint = spec.Endpoints[i];
            if (spec.Resolution == ServiceEntryResolution.Static && string.IsNullOrEmpty(endpoint.Address))
            {
                r.Report($"spec.endpoints[{i}].address", "resolution STATIC requires an address for every endpoint");
            }
            foreach (var (name, port) in endpoint.Ports)
            {
                Checks.Port(r, $"spec.endpoints[{i}].ports.{name}", port);
            }
            Checks.NonNegative(r, $"spec.endpoints[{i}].weight", endpoint.Weight);
        }
        if (spec.WorkloadSelector is not null && spec.Endpoints.Count > 0)
        {
            r.Report("spec", "only one of endpoints or workloadSelector may be set");
        }
    }
}
