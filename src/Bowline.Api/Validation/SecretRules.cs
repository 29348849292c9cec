using Bowline.Api.Resources;
using Bowline.Api.Tls;

namespace Bowline.Api.Validation;

/// <summary>
/// Secret checks: the API server's (base64 data, tls.crt and tls.key for kubernetes.io/tls) and, because a Gateway
/// may serve it, that the TLS material parses and the key is the certificate's — Istio would only find out at runtime.
/// </summary>
internal static class SecretRules
{
    private const string TlsType = "kubernetes.io/tls";

    public static void Check(KubeSecret secret, Reporter r)
    {
        foreach (var (key, value) in secret.Data)
        {
            if (SecretCredential.Find(secret, key) is { Text: null } bad)
            {
                r.Report(bad.Path, $"the value of \"{key}\" is not valid base64");
            }
        }

        if (secret.Type == TlsType)
        {
            foreach (var key in (string[])["tls.crt", "tls.key"])
            {
                if (SecretCredential.Find(secret, key) is null)
                {
                    r.Report("data", $"a {TlsType} Secret requires the key \"{key}\"");
                }
            }
        }
        else if (secret.Type is not (null or "" or "Opaque"))
        {
            return; // another kind of secret (docker config, token...): nothing Bowline reads
        }

        var certificate = Located(secret, SecretCredential.CertificateKeys);
        var privateKey = Located(secret, SecretCredential.PrivateKeyKeys);
        if (certificate is { Text: { } certPem } && Pem(r, certificate.Value.Path, () => PemMaterial.CheckCertificates(certPem)))
        {
            if (privateKey is { Text: { } keyPem })
            {
                Pem(r, privateKey.Value.Path, () => PemMaterial.ReadKeyPair(certPem, keyPem).Dispose());
            }
        }
        else if (certificate is null && privateKey is not null)
        {
            r.Report(privateKey.Value.Path, "a private key without a certificate (\"tls.crt\" or \"cert\")");
        }

        if (Located(secret, SecretCredential.CaKeys) is { Text: { } caPem } ca)
        {
            Pem(r, ca.Path, () => PemMaterial.CheckCertificates(caPem));
        }
    }

    private static (string Path, string? Text)? Located(KubeSecret secret, string[] keys) =>
        keys.Select(k => SecretCredential.Find(secret, k)).FirstOrDefault(v => v is not null);

    private static bool Pem(Reporter r, string path, Action read)
    {
        try
        {
            read();
            return true;
        }
        catch (FormatException e)
        {
            r.Report(path, e.Message);
            return false;
        }
    }
}
