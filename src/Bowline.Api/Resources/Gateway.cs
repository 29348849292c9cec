namespace Bowline.Api.Resources;

// Istio networking.istio.io Gateway.

public sealed record Gateway : Resource
{
    public GatewaySpec Spec { get; init; } = new();
}

public sealed record GatewaySpec
{
    public IReadOnlyList<Server> Servers { get; init; } = [];
    public IReadOnlyDictionary<string, string> Selector { get; init; } = new Dictionary<string, string>();
}

public sealed record Server
{
    public GatewayPort Port { get; init; } = new();
    public string? Bind { get; init; }
    public IReadOnlyList<string> Hosts { get; init; } = [];
    public ServerTLSSettings? Tls { get; init; }
    public string? DefaultEndpoint { get; init; }
    public string? Name { get; init; }
}

/// <summary>A Gateway or ServiceEntry port: number, protocol (HTTP|HTTPS|GRPC|HTTP2|MONGO|TCP|TLS), name.</summary>
public sealed record GatewayPort
{
    public int Number { get; init; }
    public string Protocol { get; init; } = "";
    public string Name { get; init; } = "";
    public int? TargetPort { get; init; }
}

public enum ServerTlsMode
{
    Passthrough,
    Simple,
    Mutual,
    AutoPassthrough,
    IstioMutual,
    OptionalMutual,
}

public enum TlsProtocolVersion
{
    TlsAuto,
    [YamlField("TLSV1_0")]
    Tlsv10,
    [YamlField("TLSV1_1")]
    Tlsv11,
    [YamlField("TLSV1_2")]
    Tlsv12,
    [YamlField("TLSV1_3")]
    Tlsv13,
}

public sealed record ServerTLSSettings
{
    public bool? HttpsRedirect { get; init; }
    public ServerTlsMode? Mode { get; init; }
    public string? ServerCertificate { get; init; }
    public string? PrivateKey { get; init; }
    public string? CaCertificates { get; init; }
    public string? CaCrl { get; init; }
    public string? CredentialName { get; init; }
    public IReadOnlyList<string> CredentialNames { get; init; } = [];
    public IReadOnlyList<string> SubjectAltNames { get; init; } = [];
    public IReadOnlyList<string> VerifyCertificateSpki { get; init; } = [];
    public IReadOnlyList<string> VerifyCertificateHash { get; init; } = [];
    public TlsProtocolVersion? MinProtocolVersion { get; init; }
    public TlsProtocolVersion? MaxProtocolVersion { get; init; }
    public IReadOnlyList<string> CipherSuites { get; init; } = [];
}
