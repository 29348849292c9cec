using System.Collections.Frozen;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Bowline.Api.Tls;
using Bowline.Api.Xds;
using Bowline.Proxy.Config;

namespace Bowline.Proxy.Listeners.Tls;

/// <summary>
/// Turns a pushed <see cref="ListenerTls"/> into handshake options: certificates loaded (from PEM or the files named),
/// checked (key matches certificate, CA present for mutual TLS). Any failure is a <see cref="ConfigException"/>, so
/// the push is NACKed and the previous config keeps serving.
/// </summary>
internal static class TlsCompiler
{
    private static readonly List<SslApplicationProtocol> Alpn = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11];

    public static CompiledTls Compile(ListenerTls tls, string where)
    {
        var exact = new Dictionary<string, SslServerAuthenticationOptions>(StringComparer.OrdinalIgnoreCase);
        var wildcards = new List<(string Suffix, SslServerAuthenticationOptions Options)>();
        SslServerAuthenticationOptions? fallback = null;
        foreach (var context in tls.Contexts)
        {
            var options = Options(context, $"{where}: {context.Name}");
            foreach (var name in context.ServerNames)
            {
                // The first server to claim a name keeps it, as with the first matching filter chain.
                if (name == "*")
                {
                    fallback ??= options;
                }
                else if (name.StartsWith("*.", StringComparison.Ordinal))
                {
                    if (!wildcards.Any(w => string.Equals(w.Suffix, name[1..], StringComparison.OrdinalIgnoreCase)))
                    {
                        wildcards.Add((name[1..], options));
                    }
                }
                else
                {
                    exact.TryAdd(name, options);
                }
            }
        }

        return new CompiledTls(
            exact.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
            [.. wildcards.OrderByDescending(w => w.Suffix.Length)],
            fallback);
    }

    private static SslServerAuthenticationOptions Options(TlsContext context, string where)
    {
        var certificatePem = Material(context.CertificateChain, context.CertificateFile, where, "certificate");
        var keyPem = Material(context.PrivateKey, context.PrivateKeyFile, where, "private key");
        if (certificatePem is null || keyPem is null)
        {
            throw new ConfigException($"{where}: a certificate and a private key are required");
        }

        X509Certificate2 leaf;
        X509Certificate2Collection chain;
        try
        {
            leaf = PemMaterial.ReadKeyPair(certificatePem, keyPem);
            chain = PemMaterial.ReadCertificates(certificatePem);
        }
        catch (FormatException e)
        {
            throw new ConfigException($"{where}: certificate: {e.Message}");
        }

        var options = new SslServerAuthenticationOptions
        {
            // Intermediates after the leaf are sent with it; offline: never fetch anything while handshaking.
            ServerCertificateContext = SslStreamCertificateContext.Create(leaf, [.. chain.Skip(1)], offline: true),
            ApplicationProtocols = Alpn,
            EnabledSslProtocols = Protocols(context.MinProtocolVersion ?? TlsVersion.Tls12, context.MaxProtocolVersion ?? TlsVersion.Tls13, where),
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        };
        if (!context.CipherSuites.IsEmpty && OperatingSystem.IsLinux())
        {
            options.CipherSuitesPolicy = CipherSuites(context.CipherSuites, where);
        }

        if (context.Mode != TlsTerminationMode.Simple)
        {
            var caPem = Material(context.CaCertificates, context.CaCertificatesFile, where, "CA certificates")
                ?? throw new ConfigException($"{where}: {context.Mode} TLS requires CA certificates to verify clients");
            X509Certificate2Collection ca;
            try
            {
                ca = PemMaterial.ReadCertificates(caPem);
            }
            catch (FormatException e)
            {
                throw new ConfigException($"{where}: CA certificates: {e.Message}");
            }

            var verifier = new ClientCertificateVerifier(ca, context.Mode == TlsTerminationMode.OptionalMutual, [.. context.SubjectAltNames])
            {
                Hashes = [.. context.VerifyCertificateHash.Select(h => h.Replace(":", "", StringComparison.Ordinal).ToUpperInvariant())],
                Spkis = [.. context.VerifyCertificateSpki],
            };
            options.ClientCertificateRequired = true; // asked for; OPTIONAL_MUTUAL accepts a client that has none
            options.RemoteCertificateValidationCallback = verifier.Verify;
        }

        return options;
    }

    private static readonly TlsCipherSuite[] Tls13Suites =
        [TlsCipherSuite.TLS_AES_128_GCM_SHA256, TlsCipherSuite.TLS_AES_256_GCM_SHA384, TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256];

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static CipherSuitesPolicy CipherSuites(IEnumerable<string> names, string where)
    {
        var suites = new List<TlsCipherSuite>(Tls13Suites);
        foreach (var name in names)
        {
            if (!CipherSuiteNames.Iana.TryGetValue(name, out var iana) || !Enum.TryParse<TlsCipherSuite>(iana, out var suite))
            {
                throw new ConfigException($"{where}: unknown cipher suite {name}");
            }

            suites.Add(suite);
        }

        return new CipherSuitesPolicy(suites);
    }

    private static string? Material(string? pem, string? file, string where, string what)
    {
        if (pem is not null || file is null)
        {
            return pem;
        }

        try
        {
            return File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"{where}: cannot read the {what} file {file}: {e.Message}");
        }
    }

#pragma warning disable SYSLIB0039, CA5397 // TLS 1.0/1.1 only when a Gateway asks for them, as Envoy allows
    private static SslProtocols Protocols(TlsVersion min, TlsVersion max, string where)
    {
        if (min > max)
        {
            throw new ConfigException($"{where}: minProtocolVersion {min} is above maxProtocolVersion {max}");
        }

        var protocols = SslProtocols.None;
        for (var v = min; v <= max; v++)
        {
            protocols |= v switch
            {
                TlsVersion.Tls10 => SslProtocols.Tls,
                TlsVersion.Tls11 => SslProtocols.Tls11,
                TlsVersion.Tls12 => SslProtocols.Tls12,
                _ => SslProtocols.Tls13,
            };
        }

        return protocols;
    }
#pragma warning restore SYSLIB0039, CA5397

    /// <summary>
    /// Client certificates must chain to the server's CA bundle (and no other root), carry a wanted SAN, and match a
    /// pin (certificate hash or key hash) when pins are set.
    /// </summary>
    private sealed class ClientCertificateVerifier(X509Certificate2Collection ca, bool optional, string[] subjectAltNames)
    {
        public string[] Hashes { get; init; } = [];
        public string[] Spkis { get; init; } = [];

        public bool Verify(object sender, X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors)
        {
            if (certificate is null)
            {
                return optional;
            }

            using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            if (presented is not null)
            {
                foreach (var element in presented.ChainElements)
                {
                    chain.ChainPolicy.ExtraStore.Add(element.Certificate);
                }
            }

            return chain.Build(leaf) && HasWantedName(leaf) && IsPinned(leaf);
        }

        private bool IsPinned(X509Certificate2 leaf)
        {
            if (Hashes.Length == 0 && Spkis.Length == 0)
            {
                return true;
            }

            var hash = Convert.ToHexString(SHA256.HashData(leaf.RawData));
            var spki = Convert.ToBase64String(SHA256.HashData(leaf.PublicKey.ExportSubjectPublicKeyInfo()));
            return Hashes.Contains(hash, StringComparer.Ordinal) || Spkis.Contains(spki, StringComparer.Ordinal);
        }

        private bool HasWantedName(X509Certificate2 leaf)
        {
            if (subjectAltNames.Length == 0)
            {
                return true;
            }

            foreach (var extension in leaf.Extensions)
            {
                if (extension is X509SubjectAlternativeNameExtension san)
                {
                    var names = san.EnumerateDnsNames().Concat(san.EnumerateIPAddresses().Select(ip => ip.ToString()));
                    if (names.Any(n => subjectAltNames.Contains(n, StringComparer.OrdinalIgnoreCase)))
                    {
                        return true;
                    }
                }
            }

            return false;
        }
    }
}
