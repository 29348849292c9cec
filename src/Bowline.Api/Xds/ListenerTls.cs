using System.Collections.Immutable;

namespace Bowline.Api.Xds;

/// <summary>
/// TLS termination on a Gateway listener: one context per Gateway server (Envoy's filter chains), chosen per
/// connection by the client's SNI. Certificate material travels in the push as PEM over the local control connection
/// (the proxy is another process); <see cref="Redaction"/> keeps private keys out of every dump.
/// </summary>
public sealed record ListenerTls
{
    /// <summary>In Gateway order; SNI picks one as Envoy does (exact name, then the longest wildcard, then "*").</summary>
    public ImmutableArray<TlsContext> Contexts { get; init; } = [];
}

public enum TlsTerminationMode
{
    /// <summary>Server certificate only.</summary>
    Simple,
    /// <summary>The client must present a certificate that chains to <see cref="TlsContext.CaCertificates"/>.</summary>
    Mutual,
    /// <summary>A client certificate is asked for and verified when presented; a client without one is accepted.</summary>
    OptionalMutual,
}

public enum TlsVersion
{
    Tls10,
    Tls11,
    Tls12,
    Tls13,
}

public sealed record TlsContext
{
    /// <summary>The server it came from, for messages: "namespace/gateway servers[i]".</summary>
    public required string Name { get; init; }
    /// <summary>SNI names: "a.example.com", "*.example.com", or "*" (any name, and a client sending none).</summary>
    public ImmutableArray<string> ServerNames { get; init; } = [];
    public TlsTerminationMode Mode { get; init; } = TlsTerminationMode.Simple;

    /// <summary>PEM chain, leaf first (credentialName). Exactly one of this and <see cref="CertificateFile"/>.</summary>
    public string? CertificateChain { get; init; }
    /// <summary>PEM private key of the leaf (credentialName); redacted in dumps.</summary>
    public string? PrivateKey { get; init; }
    /// <summary>PEM CA bundle client certificates must chain to (MUTUAL, OPTIONAL_MUTUAL).</summary>
    public string? CaCertificates { get; init; }

    /// <summary>Paths the proxy reads (serverCertificate, privateKey, caCertificates), when not given as PEM.</summary>
    public string? CertificateFile { get; init; }
    public string? PrivateKeyFile { get; init; }
    public string? CaCertificatesFile { get; init; }

    /// <summary>Null: the proxy's default (TLS 1.2).</summary>
    public TlsVersion? MinProtocolVersion { get; init; }
    /// <summary>Null: the proxy's default (TLS 1.3).</summary>
    public TlsVersion? MaxProtocolVersion { get; init; }
    /// <summary>A client certificate must carry one of these SANs (DNS or IP); empty means any.</summary>
    public ImmutableArray<string> SubjectAltNames { get; init; } = [];
    /// <summary>Client certificate pins (Envoy's verify_certificate_hash): hex SHA-256 of the DER certificate, colons
    /// optional. With <see cref="VerifyCertificateSpki"/>, a match in either list is enough; empty means no pin.</summary>
    public ImmutableArray<string> VerifyCertificateHash { get; init; } = [];
    /// <summary>Client key pins (verify_certificate_spki): base64 SHA-256 of the DER SubjectPublicKeyInfo.</summary>
    public ImmutableArray<string> VerifyCertificateSpki { get; init; } = [];
    /// <summary>TLS 1.2 suites allowed, Envoy's names (CipherSuiteNames); empty means the platform's defaults. TLS 1.3
    /// suites stay enabled, as in Envoy.</summary>
    public ImmutableArray<string> CipherSuites { get; init; } = [];
}
