using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Bowline.Proxy.Tests.Infrastructure;

/// <summary>A certificate and its key as PEM, as a Secret or a push carries them.</summary>
internal sealed record PemPair(string Certificate, string PrivateKey, string Subject)
{
    /// <summary>The pair as a client certificate for SslStream / HttpClient.</summary>
    public X509Certificate2 ToCertificate() => X509Certificate2.CreateFromPem(Certificate, PrivateKey);
}

/// <summary>
/// Certificates made at test time (nothing private is committed): a CA, and server or client certificates it signs.
/// ECDSA P-256, so making them is quick on a loaded machine.
/// </summary>
internal sealed class TestCertificates : IDisposable
{
    private readonly ECDsa _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly X509Certificate2 _ca;

    public TestCertificates(string caName = "Bowline Test CA")
    {
        var request = new CertificateRequest($"CN={caName}", _caKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        _ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        CaPem = _ca.ExportCertificatePem();
    }

    public string CaPem { get; }

    public X509Certificate2 Ca => _ca;

    /// <summary>A server certificate for <paramref name="dnsNames"/> (CN = the first).</summary>
    public PemPair Server(params string[] dnsNames) => Issue(dnsNames[0], dnsNames, server: true);

    public PemPair Client(string name) => Issue(name, [name], server: false);

    private PemPair Issue(string commonName, string[] dnsNames, bool server)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in dnsNames)
        {
            san.AddDnsName(name);
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid(server ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7f;
        using var certificate = request.Create(_ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(10), serial);
        return new PemPair(certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem(), $"CN={commonName}");
    }

    public void Dispose()
    {
        _ca.Dispose();
        _caKey.Dispose();
    }
}
