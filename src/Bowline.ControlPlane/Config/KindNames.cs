namespace Bowline.ControlPlane.Config;

/// <summary>kubectl's resource names (lower-case kind plus API group), used in apply/delete output lines.</summary>
internal static class KindNames
{
    public static string Qualified(string kind) => kind switch
    {
        "VirtualService" => "virtualservice.networking.istio.io",
        "DestinationRule" => "destinationrule.networking.istio.io",
        "Gateway" => "gateway.networking.istio.io",
        "ServiceEntry" => "serviceentry.networking.istio.io",
        "WorkloadEntry" => "workloadentry.networking.istio.io",
        "LocalRateLimit" => "localratelimit.bowline.io",
        "EnvoyFilter" => "envoyfilter.networking.istio.io",
        "Telemetry" => "telemetry.telemetry.istio.io",
        "ConfigMap" => "configmap",
        "Deployment" => "deployment.apps",
        "Service" => "service",
        "ServiceAccount" => "serviceaccount",
        "Secret" => "secret",
        _ => kind.ToLowerInvariant(),
    };
}
