namespace Bowline.Api.Resources;

// The Kubernetes kinds a mesh reads: Service (hostnames, ports, selectors), Deployment (workloads), ServiceAccount.
// Their full schemas are far larger than what Bowline needs, so they are lenient: unknown fields are ignored.

[LenientFields]
public sealed record KubeService : Resource
{
    public KubeServiceSpec Spec { get; init; } = new();
}

[LenientFields]
public sealed record KubeServiceSpec
{
    public IReadOnlyDictionary<string, string> Selector { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<KubeServicePort> Ports { get; init; } = [];
    public string? Type { get; init; }
    public string? ClusterIP { get; init; }
}

[LenientFields]
public sealed record KubeServicePort
{
    public string? Name { get; init; }
    public int Port { get; init; }
    public IntOrString? TargetPort { get; init; }
    public string? Protocol { get; init; }
    public string? AppProtocol { get; init; }
}

[LenientFields]
public sealed record Deployment : Resource
{
    public DeploymentSpec Spec { get; init; } = new();
}

[LenientFields]
public sealed record DeploymentSpec
{
    public int Replicas { get; init; } = 1;
    public LabelSelector? Selector { get; init; }
    public PodTemplateSpec Template { get; init; } = new();
}

[LenientFields]
public sealed record LabelSelector
{
    public IReadOnlyDictionary<string, string> MatchLabels { get; init; } = new Dictionary<string, string>();
}

[LenientFields]
public sealed record PodTemplateSpec
{
    public ObjectMeta Metadata { get; init; } = new();
    public PodSpec Spec { get; init; } = new();
}

[LenientFields]
public sealed record PodSpec
{
    public string? ServiceAccountName { get; init; }
    public IReadOnlyList<Container> Containers { get; init; } = [];
}

[LenientFields]
public sealed record Container
{
    public string Name { get; init; } = "";
    public string? Image { get; init; }
    public IReadOnlyList<string> Command { get; init; } = [];
    public IReadOnlyList<string> Args { get; init; } = [];
    public IReadOnlyList<KubeContainerPort> Ports { get; init; } = [];
    public IReadOnlyList<EnvVar> Env { get; init; } = [];
}

[LenientFields]
public sealed record KubeContainerPort
{
    public int ContainerPort { get; init; }
    public string? Name { get; init; }
    public string? Protocol { get; init; }
}

[LenientFields]
public sealed record EnvVar
{
    public string Name { get; init; } = "";
    public string? Value { get; init; }
}

[LenientFields]
public sealed record ServiceAccount : Resource;
