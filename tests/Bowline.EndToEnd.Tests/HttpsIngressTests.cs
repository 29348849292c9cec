using System.Net;
using System.Net.Sockets;
using System.Text;
using Bowline.EndToEnd.Tests.Infrastructure;

namespace Bowline.EndToEnd.Tests;

/// <summary>
/// Istio's "Secure Gateways" task on bookinfo: certificates made with openssl, a kubernetes.io/tls Secret, a Gateway
/// with credentialName, checked with the real openssl s_client and curl --resolve; then MUTUAL with a client
/// certificate, and an HTTP server's httpsRedirect.
/// </summary>
public sealed class HttpsIngressTests
{
    private const string Host = "bookinfo.example.com";

    [Fact]
    public async Task SecretAndGateway_SimpleServesTheCertificateAndRoutes_MutualNeedsAClientCertificate()
    {
        var certs = Directory.CreateTempSubdirectory("bowline-https-").FullName;
        MeshProcess? mesh = null;
        try
        {
            await MakeCertificatesAsync(certs);
            var https = FreePort();
            var http = FreePort();
            mesh = await MeshProcess.StartAsync(Repo.Sample("bookinfo"));

            await File.WriteAllTextAsync(Path.Combine(certs, "secret.yaml"), Secret(certs, withCa: false));
            await File.WriteAllTextAsync(Path.Combine(certs, "gateway.yaml"), Gateway("SIMPLE", https, http));
            var applied = await mesh.CliAsync("apply", "-f", Path.Combine(certs, "secret.yaml"), "-f", Path.Combine(certs, "gateway.yaml"));
            Assert.True(applied.ExitCode == 0, applied.ToString());
            Assert.Contains("secret/bookinfo-credential created", applied.Stdout, StringComparison.Ordinal);

            // The served certificate, as openssl sees it with SNI, verified against the CA.
            var sClient = await Eventually.WaitAsync(async () =>
            {
                var r = await Tool.RunAsync(certs, "openssl", "s_client", "-connect", $"127.0.0.1:{https}", "-servername", Host, "-CAfile", "example.com.crt");
                return r.Stdout.Contains("subject=", StringComparison.Ordinal) ? r : null;
            }, TimeSpan.FromSeconds(20), "the gateway to serve TLS");
            Assert.Contains($"subject=CN = {Host}, O = bookinfo organization", sClient.Stdout, StringComparison.Ordinal);
            Assert.Contains("Verify return code: 0 (ok)", sClient.Stdout, StringComparison.Ordinal);

            var ok = await Curl(certs, https);
            Assert.True(ok.Stdout == "200", ok.ToString());

            var redirect = await Tool.RunAsync(certs, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                "--resolve", $"{Host}:{http}:127.0.0.1", $"http://{Host}:{http}/productpage?u=normal");
            Assert.Equal($"301 https://{Host}:{http}/productpage?u=normal", redirect.Stdout);

            // proxy-config shows the certificate but never the key.
            var dump = await mesh.CliAsync("proxy-config", "istio-ingressgateway-0.istio-system");
            Assert.Contains("[redacted]", dump.Stdout, StringComparison.Ordinal);
            Assert.Contains("BEGIN CERTIFICATE", dump.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("PRIVATE KEY", dump.Stdout, StringComparison.Ordinal);

            // Rotation: a new certificate in the Secret alone reaches the gateway and is served to new connections.
            foreach (var args in (string[][])[
                ["req", "-out", "rotated.csr", "-newkey", "rsa:2048", "-nodes", "-keyout", $"{Host}.key", "-subj", $"/CN={Host}/O=rotated organization"],
                ["x509", "-req", "-sha256", "-days", "365", "-CA", "example.com.crt", "-CAkey", "example.com.key", "-set_serial", "2", "-in", "rotated.csr", "-out", $"{Host}.crt"]])
            {
                var made = await Tool.RunAsync(certs, "openssl", args);
                Assert.True(made.ExitCode == 0, made.ToString());
            }

            await File.WriteAllTextAsync(Path.Combine(certs, "secret.yaml"), Secret(certs, withCa: false));
            applied = await mesh.CliAsync("apply", "-f", Path.Combine(certs, "secret.yaml"));
            Assert.True(applied.ExitCode == 0 && applied.Stdout.Contains("secret/bookinfo-credential configured", StringComparison.Ordinal), applied.ToString());
            await Eventually.WaitAsync(async () =>
            {
                var r = await Tool.RunAsync(certs, "openssl", "s_client", "-connect", $"127.0.0.1:{https}", "-servername", Host, "-CAfile", "example.com.crt");
                return r.Stdout.Contains($"subject=CN = {Host}, O = rotated organization", StringComparison.Ordinal) ? r : null;
            }, TimeSpan.FromSeconds(20), "the rotated certificate to be served");
            ok = await Curl(certs, https);
            Assert.True(ok.Stdout == "200", ok.ToString());

            // MUTUAL: the Secret now carries ca.crt (Istio's generic secret form); the same listener switches mode.
            await File.WriteAllTextAsync(Path.Combine(certs, "secret.yaml"), Secret(certs, withCa: true));
            await File.WriteAllTextAsync(Path.Combine(certs, "gateway.yaml"), Gateway("MUTUAL", https, http));
            applied = await mesh.CliAsync("apply", "-f", Path.Combine(certs, "secret.yaml"), "-f", Path.Combine(certs, "gateway.yaml"));
            Assert.True(applied.ExitCode == 0, applied.ToString());
            var refused = await Eventually.WaitAsync(async () =>
            {
                var r = await Curl(certs, https);
                return r.ExitCode != 0 ? r : null;
            }, TimeSpan.FromSeconds(20), "a client without a certificate to be refused");
            Assert.NotEqual("200", refused.Stdout);

            var withCertificate = await Curl(certs, https, "--cert", "client.example.com.crt", "--key", "client.example.com.key");
            Assert.True(withCertificate.ExitCode == 0 && withCertificate.Stdout == "200", withCertificate.ToString());
        }
        finally
        {
            if (mesh is not null)
            {
                await mesh.DisposeAsync();
            }

            Directory.Delete(certs, recursive: true);
        }
    }

    private static Task<CliResult> Curl(string certs, int port, params string[] extra) =>
        Tool.RunAsync(certs, "curl", [
            "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--resolve", $"{Host}:{port}:127.0.0.1", "--cacert", "example.com.crt",
            .. extra, $"https://{Host}:{port}/productpage"]);

    /// <summary>The commands of Istio's task (and the README): a CA, a server and a client certificate it signs.</summary>
    private static async Task MakeCertificatesAsync(string dir)
    {
        string[][] commands =
        [
            ["req", "-x509", "-sha256", "-nodes", "-days", "365", "-newkey", "rsa:2048", "-subj", "/O=example Inc./CN=example.com", "-keyout", "example.com.key", "-out", "example.com.crt"],
            ["req", "-out", $"{Host}.csr", "-newkey", "rsa:2048", "-nodes", "-keyout", $"{Host}.key", "-subj", $"/CN={Host}/O=bookinfo organization"],
            ["x509", "-req", "-sha256", "-days", "365", "-CA", "example.com.crt", "-CAkey", "example.com.key", "-set_serial", "0", "-in", $"{Host}.csr", "-out", $"{Host}.crt"],
            ["req", "-out", "client.example.com.csr", "-newkey", "rsa:2048", "-nodes", "-keyout", "client.example.com.key", "-subj", "/CN=client.example.com/O=client organization"],
            ["x509", "-req", "-sha256", "-days", "365", "-CA", "example.com.crt", "-CAkey", "example.com.key", "-set_serial", "1", "-in", "client.example.com.csr", "-out", "client.example.com.crt"],
        ];
        foreach (var args in commands)
        {
            var r = await Tool.RunAsync(dir, "openssl", args);
            Assert.True(r.ExitCode == 0, r.ToString());
        }
    }

    /// <summary>What `kubectl create secret tls|generic ... --dry-run=client -o yaml` prints for these files.</summary>
    private static string Secret(string dir, bool withCa)
    {
        string B64(string file) => Convert.ToBase64String(File.ReadAllBytes(Path.Combine(dir, file)));
        var yaml = new StringBuilder();
        yaml.AppendLine("apiVersion: v1");
        yaml.AppendLine("data:");
        if (withCa)
        {
            yaml.AppendLine($"  ca.crt: {B64("example.com.crt")}");
        }

        yaml.AppendLine($"  tls.crt: {B64($"{Host}.crt")}");
        yaml.AppendLine($"  tls.key: {B64($"{Host}.key")}");
        yaml.AppendLine("kind: Secret");
        yaml.AppendLine("metadata:");
        yaml.AppendLine("  creationTimestamp: null");
        yaml.AppendLine("  name: bookinfo-credential");
        yaml.AppendLine("  namespace: istio-system");
        if (!withCa)
        {
            yaml.AppendLine("type: kubernetes.io/tls");
        }

        return yaml.ToString();
    }

    private static string Gateway(string mode, int https, int http) => $"""
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata:
          name: bookinfo-https
        spec:
          selector:
            istio: ingressgateway
          servers:
          - port: {"{"}number: {https}, name: https, protocol: HTTPS{"}"}
            tls:
              mode: {mode}
              credentialName: bookinfo-credential
            hosts: [{Host}]
          - port: {"{"}number: {http}, name: http, protocol: HTTP{"}"}
            tls:
              httpsRedirect: true
            hosts: [{Host}]
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: bookinfo-https
        spec:
          hosts: [{Host}]
          gateways: [bookinfo-https]
          http:
          - route:
            - destination:
                host: productpage
                port: {"{"}number: 9080{"}"}
        """;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
