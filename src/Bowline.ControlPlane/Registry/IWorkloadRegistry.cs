namespace Bowline.ControlPlane.Registry;

/// <summary>
/// A source of workloads (pods with labels and ports). The local registry file is the only one today; a Kubernetes
/// watch could implement this beside it.
/// </summary>
internal interface IWorkloadRegistry
{
    RegistrySnapshot Current { get; }

    /// <summary>Raised after <see cref="Current"/> changed.</summary>
    event Action? Changed;
}
