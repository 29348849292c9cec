namespace Bowline.Api.Xds;

/// <summary>
/// Who a workload is, as Istio's standard metrics label it (source_* / destination_*). The control plane fills it from
/// the pod (Deployment name, labels, service account); the proxy renders it into metric labels and, for its own
/// workload, into the peer-metadata header it sends to the callee's proxy. Any field left null is reported as
/// "unknown".
/// </summary>
public sealed record WorkloadMetadata
{
    /// <summary>The workload (the Deployment's name), e.g. "reviews-v1".</summary>
    public string? Name { get; init; }
    public string? Namespace { get; init; }
    /// <summary>The pod's "app" label.</summary>
    public string? App { get; init; }
    /// <summary>The pod's "version" label.</summary>
    public string? Version { get; init; }
    /// <summary>Istio's canonical service: service.istio.io/canonical-name, else app.kubernetes.io/name, else app, else the workload.</summary>
    public string? CanonicalService { get; init; }
    /// <summary>Istio's canonical revision: service.istio.io/canonical-revision, else app.kubernetes.io/version, else version, else "latest".</summary>
    public string? CanonicalRevision { get; init; }
    public string? ServiceAccount { get; init; }
    /// <summary>The cluster id (Istio's default "Kubernetes").</summary>
    public string? Cluster { get; init; }
}
