using Bowline.Api.Registry;
using Bowline.Api.Xds;

namespace Bowline.ControlPlane.Generation;

/// <summary>A pod's <see cref="WorkloadMetadata"/>, with Istio's rules for the canonical service and revision.</summary>
internal static class WorkloadMetadataBuilder
{
    /// <summary>Istio's default cluster id, which its metrics report as source_cluster / destination_cluster.</summary>
    public const string ClusterId = "Kubernetes";

    public static WorkloadMetadata Of(LocalPod pod) => new()
    {
        Name = pod.Workload,
        Namespace = pod.Namespace,
        App = pod.Labels.GetValueOrDefault("app"),
        Version = pod.Labels.GetValueOrDefault("version"),
        CanonicalService = pod.Labels.GetValueOrDefault("service.istio.io/canonical-name")
            ?? pod.Labels.GetValueOrDefault("app.kubernetes.io/name")
            ?? pod.Labels.GetValueOrDefault("app")
            ?? pod.Workload,
        CanonicalRevision = pod.Labels.GetValueOrDefault("service.istio.io/canonical-revision")
            ?? pod.Labels.GetValueOrDefault("app.kubernetes.io/version")
            ?? pod.Labels.GetValueOrDefault("version")
            ?? "latest",
        ServiceAccount = pod.ServiceAccount,
        Cluster = ClusterId,
    };
}
