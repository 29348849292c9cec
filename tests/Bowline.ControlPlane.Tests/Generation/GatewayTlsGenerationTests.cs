using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Bowline.Api.Xds;
using Bowline.ControlPlane.Generation;

namespace Bowline.ControlPlane.Tests.Generation;

public sealed class GatewayTlsGenerationTests
{
    private static readonly (string Cert, string Key) Pair = MakePair("httpbin.example.com");
    private static readonly (string Cert, string Key) Ca = MakePair("Example CA");

    /// <summary>A self-signed pair made at test time (validation checks Secrets hold real PEM).</summary>
    private static (string Cert, string Key) MakePair(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var cert = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return (cert.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static string TlsSecret(string name, string ns = "istio-system") => $"""
        apiVersion: v1
        kind: Secret
        type: kubernetes.io/tls
        metadata: {"{"}name: {name}, namespace: {ns}{"}"}
        data:
          tls.crt: {B64(Pair.Cert)}
          tls.key: {B64(Pair.Key)}
        """;

    private const string HttpbinService = """
        apiVersion: v1
        kind: Service
        metadata: {name: httpbin}
        spec:
          selector: {app: httpbin}
          ports: [{name: http, port: 8000}]
        """;

    private static string GatewayYaml(string tls, string hosts = "[httpbin.example.com]") => $"""
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {"{"}name: mygateway{"}"}
        spec:
          selector: {"{"}istio: ingressgateway{"}"}
          servers:
          - port: {"{"}number: 443, name: https, protocol: HTTPS{"}"}
            hosts: {hosts}
            tls: {tls}
        """;

    private const string VirtualService = """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: httpbin}
        spec:
          hosts: [httpbin.example.com]
          gateways: [mygateway]
          http:
          - route:
            - destination: {host: httpbin, port: {number: 8000}}
        """;

    private static GeneratedConfig Generate(params string[] yaml) =>
        ProxyConfigGenerator.Generate(Bookinfo.Snapshot(yaml), Bookinfo.Registry(), Bookinfo.Gateway0);

    [Fact]
    public void Simple_CredentialName_TlsListenerCarriesTheSecretsPemAndRoutesTheVirtualService()
    {
        var c = Generate(HttpbinService, TlsSecret("httpbin-credential"), GatewayYaml("{mode: SIMPLE, credentialName: httpbin-credential}"), VirtualService).Config;

        var listener = Assert.Single(c.Listeners);
        Assert.Equal(("gateway|443", 443), (listener.Name, listener.Port));
        var context = Assert.Single(listener.Tls!.Contexts);
        Assert.Equal("default/mygateway servers[0]", context.Name);
        Assert.Equal(["httpbin.example.com"], context.ServerNames.ToArray());
        Assert.Equal(TlsTerminationMode.Simple, context.Mode);
        Assert.Equal((Pair.Cert, Pair.Key), (context.CertificateChain, context.PrivateKey));
        Assert.Null(context.CaCertificates);
        var vh = Assert.Single(Assert.Single(c.RouteTables).VirtualHosts);
        Assert.Equal(["httpbin.example.com", "httpbin.example.com:443"], vh.Domains.ToArray());
        Assert.Equal("outbound|8000||httpbin.default.svc.cluster.local", Assert.Single(Assert.Single(vh.Routes).Destinations).Cluster);
    }

    [Fact]
    public void Mutual_CaFromTheCacertSecret_GenericKeysAndStringData_VersionsAndSettingsCarried()
    {
        var generic = $$"""
            apiVersion: v1
            kind: Secret
            metadata: {name: httpbin-credential, namespace: istio-system}
            stringData:
              cert: "{{Pair.Cert.ReplaceLineEndings("\\n")}}"
              key: "{{Pair.Key.ReplaceLineEndings("\\n")}}"
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: httpbin-credential-cacert, namespace: istio-system}
            data:
              ca.crt: {{B64(Ca.Cert)}}
            """;
        var c = Generate(HttpbinService, generic,
            GatewayYaml("{mode: MUTUAL, credentialName: httpbin-credential, minProtocolVersion: TLSV1_3, subjectAltNames: [client.example.com], cipherSuites: [ECDHE-ECDSA-AES256-GCM-SHA384, NOT-A-SUITE], verifyCertificateHash: ['AB:CD'], verifyCertificateSpki: [q83v]}"),
            VirtualService).Config;

        var context = Assert.Single(Assert.Single(c.Listeners).Tls!.Contexts);
        Assert.Equal(TlsTerminationMode.Mutual, context.Mode);
        Assert.Equal(Pair.Cert.ReplaceLineEndings("\n"), context.CertificateChain);
        Assert.Equal(Ca.Cert, context.CaCertificates);
        Assert.Equal(TlsVersion.Tls13, context.MinProtocolVersion);
        Assert.Null(context.MaxProtocolVersion);
        Assert.Equal(["client.example.com"], context.SubjectAltNames.ToArray());
        Assert.Equal(["ECDHE-ECDSA-AES256-GCM-SHA384"], context.CipherSuites.ToArray());
        Assert.Equal(["AB:CD"], context.VerifyCertificateHash.ToArray());
        Assert.Equal(["q83v"], context.VerifyCertificateSpki.ToArray());
    }

    [Fact]
    public void FilePaths_ArePassedForTheProxyToRead()
    {
        var c = Generate(HttpbinService,
            GatewayYaml("{mode: OPTIONAL_MUTUAL, serverCertificate: /etc/certs/cert.pem, privateKey: /etc/certs/key.pem, caCertificates: /etc/certs/ca.pem}", "[\"*\"]"),
            VirtualService).Config;

        var context = Assert.Single(Assert.Single(c.Listeners).Tls!.Contexts);
        Assert.Equal((TlsTerminationMode.OptionalMutual, "/etc/certs/cert.pem", "/etc/certs/key.pem", "/etc/certs/ca.pem"),
            (context.Mode, context.CertificateFile, context.PrivateKeyFile, context.CaCertificatesFile));
        Assert.Equal(["*"], context.ServerNames.ToArray());
        Assert.Null(context.PrivateKey);
    }

    [Fact]
    public void MissingSecret_LeavesThePortOutWithANote()
    {
        var generated = Generate(HttpbinService, GatewayYaml("{mode: SIMPLE, credentialName: nowhere}"), VirtualService);

        Assert.Empty(generated.Config.Listeners);
        Assert.Contains("default/mygateway servers[0]: credential \"nowhere\" not found in namespace istio-system; the server is left out", generated.Notes);
    }

    [Fact]
    public void SecretOutsideTheGatewayPodsNamespace_IsNotUsed()
    {
        var generated = Generate(HttpbinService, TlsSecret("httpbin-credential", "default"), GatewayYaml("{mode: SIMPLE, credentialName: httpbin-credential}"), VirtualService);

        Assert.Empty(generated.Config.Listeners);
    }

    [Fact]
    public void HttpsRedirect_BoundAndUnboundHostsOfThePlaintextServerAnswer301ToHttps()
    {
        const string gateway = """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: mygateway}
            spec:
              selector: {istio: ingressgateway}
              servers:
              - port: {number: 8080, name: http, protocol: HTTP}
                hosts: [httpbin.example.com, other.example.com]
                tls: {httpsRedirect: true}
            """;
        var c = Generate(HttpbinService, gateway, VirtualService).Config;

        var listener = Assert.Single(c.Listeners);
        Assert.Null(listener.Tls);
        var hosts = Assert.Single(c.RouteTables).VirtualHosts;
        Assert.Equal(["httpbin.example.com:8080", "other.example.com:8080"], hosts.Select(h => h.Name));
        foreach (var host in hosts)
        {
            var redirect = Assert.Single(host.Routes).Redirect!;
            Assert.Equal(("https", 301, RedirectPortMode.Keep, null), (redirect.Scheme, redirect.Code, redirect.PortMode, redirect.Uri));
        }

        Assert.Empty(c.Clusters);
    }
}
