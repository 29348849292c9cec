namespace Bowline.Api.Resources;

// Istio networking.istio.io DestinationRule. Enum values are Istio's upper-case names mapped to PascalCase
// ("ROUND_ROBIN" ⇄ RoundRobin) by the YAML binder.

public sealed record DestinationRule : Resource
{
    public DestinationRuleSpec Spec { get; init; } = new();
}

public sealed record DestinationRuleSpec
{
    public string Host { get; init; } = "";
    public TrafficPolicy? TrafficPolicy { get; init; }
    public IReadOnlyList<Subset> Subsets { get; init; } = [];
    public IReadOnlyList<string> ExportTo { get; init; } = [];
    public WorkloadSelector? WorkloadSelector { get; init; }
}

public sealed record WorkloadSelector
{
    public IReadOnlyDictionary<string, string> MatchLabels { get; init; } = new Dictionary<string, string>();
}

public sealed record Subset
{
    public string Name { get; init; } = "";
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    public TrafficPolicy? TrafficPolicy { get; init; }
}

public sealed record TrafficPolicy
{
    public LoadBalancerSettings? LoadBalancer { get; init; }
    public ConnectionPoolSettings? ConnectionPool { get; init; }
    public OutlierDetection? OutlierDetection { get; init; }
    public ClientTLSSettings? Tls { get; init; }
    public IReadOnlyList<PortTrafficPolicy> PortLevelSettings { get; init; } = [];
    public TunnelSettings? Tunnel { get; init; }
    public ProxyProtocol? ProxyProtocol { get; init; }
}

public sealed record PortTrafficPolicy
{
    public PortSelector? Port { get; init; }
    public LoadBalancerSettings? LoadBalancer { get; init; }
    public ConnectionPoolSettings? ConnectionPool { get; init; }
    public OutlierDetection? OutlierDetection { get; init; }
    public ClientTLSSettings? Tls { get; init; }
}

public sealed record TunnelSettings
{
    public string Protocol { get; init; } = "";
    public string TargetHost { get; init; } = "";
    public int TargetPort { get; init; }
}

public sealed record ProxyProtocol
{
    public string? Version { get; init; }
}

public enum SimpleLB
{
    Unspecified,
    Random,
    Passthrough,
    RoundRobin,
    LeastRequest,
    LeastConn,
}

public sealed record LoadBalancerSettings
{
    public SimpleLB? Simple { get; init; }
    public ConsistentHashLB? ConsistentHash { get; init; }
    public LocalityLoadBalancerSetting? LocalityLbSetting { get; init; }
    public TimeSpan? WarmupDurationSecs { get; init; }
}

public sealed record ConsistentHashLB
{
    public string? HttpHeaderName { get; init; }
    public HTTPCookie? HttpCookie { get; init; }
    public bool? UseSourceIp { get; init; }
    public string? HttpQueryParameterName { get; init; }
    public RingHash? RingHash { get; init; }
    public MagLev? Maglev { get; init; }
    public long? MinimumRingSize { get; init; }
}

public sealed record HTTPCookie
{
    public string Name { get; init; } = "";
    public string? Path { get; init; }
    public TimeSpan? Ttl { get; init; }
}

public sealed record RingHash
{
    public long? MinimumRingSize { get; init; }
}

public sealed record MagLev
{
    public long? TableSize { get; init; }
}

public sealed record LocalityLoadBalancerSetting
{
    public IReadOnlyList<LocalityDistribute> Distribute { get; init; } = [];
    public IReadOnlyList<LocalityFailover> Failover { get; init; } = [];
    public IReadOnlyList<string> FailoverPriority { get; init; } = [];
    public bool? Enabled { get; init; }
}

public sealed record LocalityDistribute
{
    public string From { get; init; } = "";
    public IReadOnlyDictionary<string, int> To { get; init; } = new Dictionary<string, int>();
}

public sealed record LocalityFailover
{
    public string From { get; init; } = "";
    public string To { get; init; } = "";
}

public sealed record ConnectionPoolSettings
{
    public TcpSettings? Tcp { get; init; }
    public HttpSettings? Http { get; init; }
}

public sealed record TcpSettings
{
    public int? MaxConnections { get; init; }
    public TimeSpan? ConnectTimeout { get; init; }
    public TcpKeepalive? TcpKeepalive { get; init; }
    public TimeSpan? MaxConnectionDuration { get; init; }
    public TimeSpan? IdleTimeout { get; init; }
}

public sealed record TcpKeepalive
{
    public int? Probes { get; init; }
    public TimeSpan? Time { get; init; }
    public TimeSpan? Interval { get; init; }
}

public enum H2UpgradePolicy
{
    Default,
    DoNotUpgrade,
    Upgrade,
}

public sealed record HttpSettings
{
    public int? Http1MaxPendingRequests { get; init; }
    public int? Http2MaxRequests { get; init; }
    public int? MaxRequestsPerConnection { get; init; }
    public int? MaxRetries { get; init; }
    public TimeSpan? IdleTimeout { get; init; }
    public H2UpgradePolicy? H2UpgradePolicy { get; init; }
    public bool? UseClientProtocol { get; init; }
    public int? MaxConcurrentStreams { get; init; }
}

public sealed record OutlierDetection
{
    public bool? SplitExternalLocalOriginErrors { get; init; }
    public int? ConsecutiveLocalOriginFailures { get; init; }
    public int? ConsecutiveGatewayErrors { get; init; }
    public int? Consecutive5xxErrors { get; init; }
    /// <summary>Deprecated in Istio in favour of consecutive5xxErrors.</summary>
    public int? ConsecutiveErrors { get; init; }
    public TimeSpan? Interval { get; init; }
    public TimeSpan? BaseEjectionTime { get; init; }
    public int? MaxEjectionPercent { get; init; }
    public int? MinHealthPercent { get; init; }
}

public enum ClientTlsMode
{
    Disable,
    Simple,
    Mutual,
    IstioMutual,
}

public sealed record ClientTLSSettings
{
    public ClientTlsMode? Mode { get; init; }
    public string? ClientCertificate { get; init; }
    public string? PrivateKey { get; init; }
    public string? CaCertificates { get; init; }
    public string? CredentialName { get; init; }
    public IReadOnlyList<string> SubjectAltNames { get; init; } = [];
    public string? Sni { get; init; }
    public bool? InsecureSkipVerify { get; init; }
    public string? CaCrl { get; init; }
}
