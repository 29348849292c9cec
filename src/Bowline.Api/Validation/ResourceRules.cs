using Bowline.Api.Resources;
using Bowline.Api.Yaml;

namespace Bowline.Api.Validation;

/// <summary>Dispatches one resource to the checks of its kind, after the checks every kind shares (names).</summary>
internal static class ResourceRules
{
    public static void Check(ParsedResource parsed, Reporter reporter)
    {
        NameRules.Check(parsed.Resource, reporter);
        switch (parsed.Resource)
        {
            case VirtualService vs:
                VirtualServiceRules.Check(vs.Spec, reporter);
                break;
            case DestinationRule dr:
                DestinationRuleRules.Check(dr.Spec, reporter);
                break;
            case Gateway gateway:
                GatewayRules.Check(gateway.Spec, reporter);
                break;
            case ServiceEntry se:
                ServiceEntryRules.Check(se.Spec, reporter);
                break;
            case WorkloadEntry we:
                ServiceEntryRules.CheckWorkloadEntry(we.Spec, reporter);
                break;
            case LocalRateLimitResource limit:
                LocalRateLimitRules.Check(limit.Spec, reporter);
                break;
            case KubeService service:
                KubernetesRules.Check(service.Spec, reporter);
                break;
            case Resources.Telemetry telemetry:
                TelemetryRules.Check(telemetry.Spec, reporter);
                break;
            case ConfigMap configMap:
                TelemetryRules.Check(configMap, reporter);
                break;
            case Deployment deployment:
                KubernetesRules.Check(deployment.Spec, reporter);
                break;
            case KubeSecret secret:
                SecretRules.Check(secret, reporter);
                break;
        }
    }
}
