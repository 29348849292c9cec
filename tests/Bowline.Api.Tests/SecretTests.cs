using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Bowline.Api.Management;
using Bowline.Api.Resources;
using Bowline.Api.Tls;
using Bowline.Api.Validation;

namespace Bowline.Api.Tests;

/// <summary>Kubernetes Secrets for Gateway credentialName: binding, validation with locations, and the analyzer's reference check.</summary>
public sealed class SecretTests
{
    private static readonly (string Cert, string Key) Pair = MakePair("httpbin.example.com");
    private static readonly (string Cert, string Key) OtherPair = MakePair("other.example.com");

    private static (string Cert, string Key) MakePair(string name)
    {
        using var key = RSA.Create(2048);
        using var cert = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return (cert.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    /// <summary>What `kubectl create -n istio-system secret tls httpbin-credential --key=... --cert=... --dry-run=client -o yaml` prints.</summary>
    private static string KubectlTlsSecret(string cert, string key) => $"""
        apiVersion: v1
        data:
          tls.crt: {B64(cert)}
          tls.key: {B64(key)}
        kind: Secret
        metadata:
          creationTimestamp: null
          name: httpbin-credential
          namespace: istio-system
        type: kubernetes.io/tls
        """;

    [Fact]
    public void Validate_KubectlTlsSecret_BindsAndDecodes()
    {
        var result = Diag.Validate("secret.yaml", KubectlTlsSecret(Pair.Cert, Pair.Key));

        Assert.Empty(result.Errors);
        Assert.Empty(result.Warnings);
        var secret = Assert.IsType<KubeSecret>(Assert.Single(result.Resources).Resource);
        var material = SecretCredential.From(secret);
        Assert.Equal((Pair.Cert, Pair.Key, null), (material.Certificate, material.PrivateKey, material.CaCertificates));
    }

    [Fact]
    public void Validate_BadBase64_BadPem_MismatchedKey_AreLocatedErrors()
    {
        Assert.Equal(
            ["secret.yaml:3: data[\"tls.crt\"]: the value of \"tls.crt\" is not valid base64"],
            Diag.Errors("secret.yaml", KubectlTlsSecret(Pair.Cert, Pair.Key).Replace($"tls.crt: {B64(Pair.Cert)}", "tls.crt: not*base64", StringComparison.Ordinal)));
        Assert.Equal(
            ["secret.yaml:3: data[\"tls.crt\"]: no PEM certificate found (expected a -----BEGIN CERTIFICATE----- block)"],
            Diag.Errors("secret.yaml", KubectlTlsSecret("hello", Pair.Key)));
        Assert.Equal(
            ["secret.yaml:4: data[\"tls.key\"]: the private key does not match the certificate"],
            Diag.Errors("secret.yaml", KubectlTlsSecret(Pair.Cert, OtherPair.Key)));
    }

    [Fact]
    public void Validate_TlsSecretWithoutKey_AndGenericStringDataWithBadCa_AreErrors()
    {
        Assert.Equal(
            ["s.yaml:5: data: a kubernetes.io/tls Secret requires the key \"tls.key\""],
            Diag.Errors("s.yaml", $"""
                apiVersion: v1
                kind: Secret
                metadata: {"{"}name: c, namespace: istio-system{"}"}
                type: kubernetes.io/tls
                data:
                  tls.crt: {B64(Pair.Cert)}
                """));
        Assert.Equal(
            ["s.yaml:6: stringData.cacert: no PEM certificate found (expected a -----BEGIN CERTIFICATE----- block)"],
            Diag.Errors("s.yaml", """
                apiVersion: v1
                kind: Secret
                metadata: {name: c-cacert, namespace: istio-system}
                stringData:
                  # Istio's generic form: cert, key, cacert
                  cacert: not a certificate
                """));
    }

    private const string Gateway = """
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: mygateway}
        spec:
          selector: {istio: ingressgateway}
          servers:
          - port: {number: 443, name: https, protocol: HTTPS}
            hosts: [httpbin.example.com]
            tls: {mode: SIMPLE, credentialName: httpbin-credential}
          - port: {number: 8443, name: https-mutual, protocol: HTTPS}
            hosts: [httpbin.example.com]
            tls:
              mode: MUTUAL
              credentialName: httpbin-credential
        """;

    private static string[] Analyze(params string[] yaml)
    {
        var result = ConfigValidator.Validate(yaml.Select((y, i) => new ConfigFile { Name = $"f{i}.yaml", Content = y }));
        Assert.Empty(result.Errors);
        return ConfigValidator.Analyze(result.Resources).Select(d => d.ToString()).ToArray();
    }

    [Fact]
    public void Analyze_CredentialNameWithoutSecret_WarnsAtTheField()
    {
        Assert.Equal(
            [
                "f0.yaml:9: spec.servers[0].tls.credentialName: referenced credential not found: no Secret \"httpbin-credential\" in namespace istio-system or default",
                "f0.yaml:14: spec.servers[1].tls.credentialName: referenced credential not found: no Secret \"httpbin-credential\" in namespace istio-system or default",
            ],
            Analyze(Gateway));
    }

    [Fact]
    public void Analyze_SecretPresent_MutualWithoutCa_WarnsOnlyAboutTheCa_AndACacertSecretSatisfiesIt()
    {
        Assert.Equal(
            ["f0.yaml:14: spec.servers[1].tls.credentialName: MUTUAL TLS needs a CA: neither the Secret \"httpbin-credential\" (ca.crt or cacert) nor a Secret \"httpbin-credential-cacert\" has one"],
            Analyze(Gateway, KubectlTlsSecret(Pair.Cert, Pair.Key)));

        var caSecret = $"""
            apiVersion: v1
            kind: Secret
            metadata: {"{"}name: httpbin-credential-cacert, namespace: istio-system{"}"}
            data:
              ca.crt: {B64(OtherPair.Cert)}
            """;
        Assert.Empty(Analyze(Gateway, KubectlTlsSecret(Pair.Cert, Pair.Key), caSecret));
    }

    [Fact]
    public void Validate_MutualWithFilesWithoutCaCertificates_IsAnError()
    {
        Assert.Equal(
            ["gw.yaml:9: spec.servers[0].tls.caCertificates: MUTUAL TLS requires caCertificates (or credentialName)"],
            Diag.Errors("gw.yaml", """
                apiVersion: networking.istio.io/v1
                kind: Gateway
                metadata: {name: gw}
                spec:
                  selector: {istio: ingressgateway}
                  servers:
                  - port: {number: 443, name: https, protocol: HTTPS}
                    hosts: ["*"]
                    tls: {mode: MUTUAL, serverCertificate: /c.pem, privateKey: /k.pem}
                """));
    }
}
