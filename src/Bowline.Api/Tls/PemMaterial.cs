using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Bowline.Api.Tls;

/// <summary>
/// Reads PEM certificates and private keys with messages a user can act on ("the private key does not match the
/// certificate" rather than a CryptographicException's wording). Used by validation (Secrets) and by the proxy.
/// </summary>
public static class PemMaterial
{
    /// <summary>Every CERTIFICATE block, in order (leaf first for a chain).</summary>
    /// <exception cref="FormatException">No certificate, or one that does not parse.</exception>
    public static X509Certificate2Collection ReadCertificates(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        var certificates = new X509Certificate2Collection();
        var rest = pem.AsSpan();
        var index = 0;
        while (PemEncoding.TryFind(rest, out var fields))
        {
            if (rest[fields.Label].SequenceEqual("CERTIFICATE"))
            {
                var der = Convert.FromBase64String(rest[fields.Base64Data].ToString());
                try
                {
                    certificates.Add(X509CertificateLoader.LoadCertificate(der));
                }
                catch (CryptographicException e)
                {
                    throw new FormatException($"certificate {index} is not a valid X.509 certificate: {e.Message}", e);
                }

                index++;
            }

            rest = rest[fields.Location.End..];
        }

        if (certificates.Count == 0)
        {
            throw new FormatException("no PEM certificate found (expected a -----BEGIN CERTIFICATE----- block)");
        }

        return certificates;
    }

    /// <summary>Whether <paramref name="pem"/> reads as certificates (<see cref="ReadCertificates"/>), keeping none.</summary>
    /// <exception cref="FormatException">No certificate, or one that does not parse.</exception>
    public static void CheckCertificates(string pem)
    {
        foreach (var certificate in ReadCertificates(pem))
        {
            certificate.Dispose();
        }
    }

    /// <summary>The first certificate of <paramref name="certificatePem"/> joined with its private key.</summary>
    /// <exception cref="FormatException">A bad certificate, a bad key, or a key that is not the certificate's.</exception>
    public static X509Certificate2 ReadKeyPair(string certificatePem, string privateKeyPem)
    {
        ArgumentNullException.ThrowIfNull(privateKeyPem);
        var chain = ReadCertificates(certificatePem);
        var leaf = chain[0];
        try
        {
            if (!privateKeyPem.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
            {
                throw new FormatException("no PEM private key found (expected a -----BEGIN PRIVATE KEY----- block)");
            }

            if (leaf.GetRSAPublicKey() is { } rsaPublic)
            {
                rsaPublic.Dispose();
                using var rsa = RSA.Create();
                Import(rsa, privateKeyPem, "RSA");
                return Join(() => leaf.CopyWithPrivateKey(rsa));
            }

            if (leaf.GetECDsaPublicKey() is { } ecPublic)
            {
                ecPublic.Dispose();
                using var ec = ECDsa.Create();
                Import(ec, privateKeyPem, "EC");
                return Join(() => leaf.CopyWithPrivateKey(ec));
            }

            throw new FormatException("the certificate's key type is not supported (expected RSA or ECDSA)");
        }
        finally
        {
            foreach (var certificate in chain)
            {
                certificate.Dispose();
            }
        }
    }

    private static void Import(AsymmetricAlgorithm key, string pem, string type)
    {
        try
        {
            key.ImportFromPem(pem);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new FormatException($"the private key is not a valid {type} private key in PEM, or not the certificate's key type: {e.Message}", e);
        }
    }

    private static X509Certificate2 Join(Func<X509Certificate2> copy)
    {
        try
        {
            return copy();
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new FormatException("the private key does not match the certificate", e);
        }
    }
}
