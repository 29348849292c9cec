using System.Net;
using Bowline.Api.Resources;

namespace Bowline.Api.Validation;

/// <summary>ServiceEntry checks, after Istio's validateServiceEntry (messages follow Istio's where it has one).</summary>
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
        var portNumbers = new HashSet<int>();
        for (var i = 0; i < spec.Ports.Count; i++)
        {
            GatewayRules.Port(spec.Ports[i], $"spec.ports[{i}]", r);
            if (spec.Ports[i].Name.Length > 0 && !portNames.Add(spec.Ports[i].Name))
            {
                r.Report($"spec.ports[{i}].name", $"duplicate port name \"{spec.Ports[i].Name}\"");
            }

            if (spec.Ports[i].Number > 0 && !portNumbers.Add(spec.Ports[i].Number))
            {
                r.Report($"spec.ports[{i}].number", $"service entry port {spec.Ports[i].Number} already defined");
            }
        }

        if (spec.WorkloadSelector is not null && spec.Endpoints.Count > 0)
        {
            r.Report("spec", "only one of endpoints or workloadSelector may be set");
        }

        switch (spec.Resolution ?? ServiceEntryResolution.None)
        {
            case ServiceEntryResolution.None:
                // NONE forwards to the address the app asked for: endpoints would never be used.
                if (spec.Endpoints.Count > 0)
                {
                    r.Report("spec.endpoints", "no endpoints should be provided for resolution type none");
                }

                break;
            case ServiceEntryResolution.Static:
                // STATIC means "these addresses are the service": without them there is nothing to send traffic to.
                if (spec.Endpoints.Count == 0 && spec.WorkloadSelector is null)
                {
                    r.Report("spec.endpoints", "endpoints must be provided if service entry resolution mode is static");
                }

                for (var i = 0; i < spec.Endpoints.Count; i++)
                {
                    var address = spec.Endpoints[i].Address;
                    if (string.IsNullOrEmpty(address))
                    {
                        r.Report($"spec.endpoints[{i}].address", "resolution STATIC requires an address for every endpoint");
                    }
                    else if (address.StartsWith("unix://", StringComparison.Ordinal))
                    {
                        r.Report($"spec.endpoints[{i}].address", "unix domain socket endpoints are not supported by Bowline");
                    }
                    else if (!IPAddress.TryParse(address, out _))
                    {
                        r.Report($"spec.endpoints[{i}].address", $"\"{address}\" is not a valid IP address (resolution STATIC)");
                    }
                }

                break;
            case ServiceEntryResolution.Dns or ServiceEntryResolution.DnsRoundRobin:
                if (spec.Endpoints.Count == 0)
                {
                    for (var i = 0; i < spec.Hosts.Count; i++)
                    {
                        if (spec.Hosts[i].Length > 0 && !HostRules.IsFqdn(spec.Hosts[i]))
                        {
                            r.Report($"spec.hosts[{i}]", "hosts must be FQDN if no endpoints are provided for resolution mode DNS");
                        }
                    }
                }

                if (spec.Resolution == ServiceEntryResolution.DnsRoundRobin && spec.Endpoints.Count > 1)
                {
                    r.Report("spec.endpoints", "there must only be 0 or 1 endpoint for resolution mode DNS_ROUND_ROBIN");
                }

                for (var i = 0; i < spec.Endpoints.Count; i++)
                {
                    var address = spec.Endpoints[i].Address ?? "";
                    if (!IPAddress.TryParse(address, out _) && !HostRules.IsFqdn(address))
                    {
                        r.Report($"spec.endpoints[{i}].address", $"endpoint address \"{address}\" is not a valid FQDN or an IP address");
                    }
                }

                break;
        }

        for (var i = 0; i < spec.Endpoints.Count; i++)
        {
            var endpoint = spec.Endpoints[i];
            foreach (var (name, port) in endpoint.Ports)
            {
                Checks.Port(r, $"spec.endpoints[{i}].ports.{name}", port);
                if (!portNames.Contains(name))
                {
                    r.Report($"spec.endpoints[{i}].ports.{name}", $"endpoint port {port} is not defined by the service entry");
                }
            }

            Checks.NonNegative(r, $"spec.endpoints[{i}].weight", endpoint.Weight);
        }

        if (spec.WorkloadSelector is { } selector)
        {
            foreach (var (key, value) in selector.Labels)
            {
                if (key.Contains('*', StringComparison.Ordinal) || value.Contains('*', StringComparison.Ordinal))
                {
                    r.Report($"spec.workloadSelector.labels.{key}", "wildcard is not supported in selector");
                }
            }
        }

        // Plain TCP cannot tell the hosts apart (no Host header, no SNI), so Istio refuses several hosts then.
        if (spec.Resolution is not (null or ServiceEntryResolution.None) && spec.Hosts.Count > 1
            && spec.Ports.Any(p => p.Protocol.ToUpperInvariant() is "TCP" or "MONGO" or "REDIS" or "MYSQL"))
        {
            r.Report("spec.hosts", "multiple hosts provided with non-HTTP, non-TLS ports");
        }
    }

    /// <summary>Istio's validateWorkloadEntry: an address (IP or DNS name), valid ports and weight.</summary>
    public static void CheckWorkloadEntry(WorkloadEntrySpec spec, Reporter r)
    {
        if (string.IsNullOrEmpty(spec.Address))
        {
            r.Report("spec.address", "address must be set");
        }
        else if (!IPAddress.TryParse(spec.Address, out _) && !HostRules.IsFqdn(spec.Address))
        {
            r.Report("spec.address", $"\"{spec.Address}\" is not a valid IP address or DNS name");
        }

        foreach (var (name, port) in spec.Ports)
        {
            Checks.Port(r, $"spec.ports.{name}", port);
        }

        Checks.NonNegative(r, "spec.weight", spec.Weight);
    }
}
