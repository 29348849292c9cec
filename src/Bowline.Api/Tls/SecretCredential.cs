using System.Text;
using Bowline.Api.Resources;

namespace Bowline.Api.Tls;

/// <summary>
/// The TLS material of a Secret as Istio's secret controller reads it: kubernetes.io/tls keys (tls.crt, tls.key,
/// ca.crt) or the generic keys (cert, key, cacert). Values are PEM text.
/// </summary>
public sealed record SecretCredential(string? Certificate, string? PrivateKey, string? CaCertificates)
{
    public static readonly string[] CertificateKeys = ["tls.crt", "cert"];
    public static readonly string[] PrivateKeyKeys = ["tls.key", "key"];
    public static readonly string[] CaKeys = ["ca.crt", "cacert"];

    /// <summary>Istio's suffix for the Secret that holds a credential's CA when the credential itself has none.</summary>
    public const string CaSecretSuffix = "-cacert";

    /// <summary>The material in <paramref name="secret"/>; undecodable values count as absent (validation reports them).</summary>
    public static SecretCredential From(KubeSecret secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return new SecretCredential(First(secret, CertificateKeys), First(secret, PrivateKeyKeys), First(secret, CaKeys));
    }

    /// <summary>
    /// Where a value lives, as a field path ("data[\"tls.crt\"]"), and its text; stringData wins over data, as the API
    /// server merges them. Null when the key is in neither.
    /// </summary>
    public static (string Path, string? Text)? Find(KubeSecret secret, string key)
    {
        ArgumentNullException.ThrowIfNull(secret);
        if (secret.StringData.TryGetValue(key, out var plain))
        {
            return (Path("stringData", key), plain);
        }

        if (secret.Data.TryGetValue(key, out var encoded))
        {
            return (Path("data", key), Decode(encoded));
        }

        return null;
    }

    /// <summary>The Kubernetes name a credentialName refers to ("kubernetes://name" is the same as "name").</summary>
    public static string SecretName(string credentialName)
    {
        ArgumentNullException.ThrowIfNull(credentialName);
        const string Prefix = "kubernetes://";
        return credentialName.StartsWith(Prefix, StringComparison.Ordinal) ? credentialName[Prefix.Length..] : credentialName;
    }

    private static string? First(KubeSecret secret, string[] keys) =>
        keys.Select(k => Find(secret, k)).FirstOrDefault(v => v is not null)?.Text;

    private static string Path(string field, string key) =>
        key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-') ? $"{field}.{key}" : $"{field}[\"{key}\"]";

    private static string? Decode(string base64)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(base64));
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
