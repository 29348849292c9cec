using Bowline.Api.Resources;

namespace Bowline.ControlPlane.Generation;

/// <summary>The blocks of a DestinationRule's traffic policy that apply to one cluster, after Istio's merge.</summary>
internal sealed record EffectiveTrafficPolicy(LoadBalancerSettings? LoadBalancer, ConnectionPoolSettings? ConnectionPool, OutlierDetection? OutlierDetection)
{
    public static readonly EffectiveTrafficPolicy None = new(null, null, null);
}

/// <summary>
/// Istio's MergeTrafficPolicy: the top level with its portLevelSettings for the cluster's port applied, then the
/// subset's blocks over it, then the subset's own portLevelSettings for the port. Blocks are replaced whole, never
/// merged field by field; a matching port-level entry replaces every block, unset ones included ("port level policies
/// do not inherit", as Istio says).
/// </summary>
internal static class TrafficPolicyMerge
{
    public static EffectiveTrafficPolicy For(DestinationRule? rule, string? subset, int port)
    {
        if (rule is null)
        {
            return EffectiveTrafficPolicy.None;
        }

        var effective = Apply(EffectiveTrafficPolicy.None, rule.Spec.TrafficPolicy, port);
        if (subset is not null && rule.Spec.Subsets.FirstOrDefault(s => s.Name == subset)?.TrafficPolicy is { } subsetPolicy)
        {
            effective = Apply(effective, subsetPolicy, port);
        }

        return effective;
    }

    private static EffectiveTrafficPolicy Apply(EffectiveTrafficPolicy under, TrafficPolicy? policy, int port)
    {
        if (policy is null)
        {
            return under;
        }

        var merged = new EffectiveTrafficPolicy(
            policy.LoadBalancer ?? under.LoadBalancer,
            policy.ConnectionPool ?? under.ConnectionPool,
            policy.OutlierDetection ?? under.OutlierDetection);
        var portLevel = policy.PortLevelSettings.FirstOrDefault(p => p.Port?.Number == port);
        return portLevel is null ? merged : new EffectiveTrafficPolicy(portLevel.LoadBalancer, portLevel.ConnectionPool, portLevel.OutlierDetection);
    }
}
