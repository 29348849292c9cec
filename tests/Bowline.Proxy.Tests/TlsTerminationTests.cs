using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Bowline.Api.Xds;
using Bowline.Proxy.Admin;
using Bowline.Proxy.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using static Bowline.Proxy.Tests.Infrastructure.Configs;

namespace Bowline.Proxy.Tests;

/// <summary>Gateway HTTPS listeners over real TLS sockets, with certificates made at test time.</summary>
public sealed class TlsTerminationTests : IDisposable
{
    private readonly TestCertificates _pki = new();

    public void Dispose() => _pki.Dispose();

    private static TlsContext Context(string name, PemPair pair, TlsTerminationMode mode = TlsTerminationMode.Simple, string? ca = null, params string[] serverNames) => new()
    {
        Name = name,
        ServerNames = [.. serverNames],
        Mode = mode,
        CertificateChain = pair.Certificate,
        PrivateKey = pair.PrivateKey,
        CaCertificates = ca,
    };

    private static ProxyConfig Gateway(int backendPort, params TlsContext[] contexts) => ConfigOf(
        [new Listener { Name = "gateway|443", Kind = ListenerKind.Gateway, Address = "127.0.0.1", Port = 0, RouteTable = "gw", Tls = new ListenerTls { Contexts = [.. contexts] } }],
        [Table("gw", Host("any", ["*"], Route("backend")))],
        [Cluster("backend", backendPort)]);

    /// <summary>An HTTPS client that connects to <paramref name="proxy"/> whatever the URL's host (curl --resolve), trusts only our CA, and records each server certificate it sees.</summary>
    private HttpClient Https(IPEndPoint proxy, List<string> seen, X509Certificate2? clientCertificate = null, Version? version = null)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(proxy, ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            lock (seen)
            {
                seen.Add(certificate!.Subject);
            }

            return Trusted(certificate, errors);
        };
        if (clientCertificate is not null)
        {
            handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate;
        }

        return new HttpClient(handler)
        {
            Timeout = TimeSpan.FromSeconds(30),
            DefaultRequestVersion = version ?? HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    /// <summary>The name matches and the chain ends at our CA (and nowhere else).</summary>
    private bool Trusted(X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            return false;
        }

        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_pki.Ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(leaf);
    }

    /// <summary>A bare handshake: the subject of the certificate served for <paramref name="sni"/>.</summary>
    private async Task<string> ServedSubjectAsync(IPEndPoint proxy, string sni)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(proxy);
        await using var ssl = new SslStream(tcp.GetStream());
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = sni,
            RemoteCertificateValidationCallback = (_, certificate, _, errors) => Trusted(certificate, errors),
        });
        return ssl.RemoteCertificate!.Subject;
    }

    [Fact]
    public async Task Simple_TwoHostsOnOnePort_SniPicksEachHostsCertificateAndForwardsAsHttps()
    {
        await using var backend = await TestBackend.StartAsync("httpbin");
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(Gateway(backend.Port,
            Context("default/gw servers[0]", _pki.Server("a.example.com"), serverNames: "a.example.com"),
            Context("default/gw servers[1]", _pki.Server("*.wild.example.com"), serverNames: "*.wild.example.com")));
        var endpoint = proxy.ListenerEndpoint("gateway|443");

        Assert.Equal("CN=a.example.com", await ServedSubjectAsync(endpoint, "a.example.com"));
        Assert.Equal("CN=*.wild.example.com", await ServedSubjectAsync(endpoint, "x.wild.example.com"));
        // Envoy closes a connection no filter chain matches: an unknown name, or no SNI without a "*" server.
        await Assert.ThrowsAnyAsync<Exception>(() => ServedSubjectAsync(endpoint, "other.example.com"));

        var seen = new List<string>();
        using var client = Https(endpoint, seen);
        using var response = await client.GetAsync($"https://a.example.com:{endpoint.Port}/status/200");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("httpbin", await response.Content.ReadAsStringAsync());
        Assert.Equal("https", response.Headers.GetValues("x-seen-forwarded-proto").Single());
        Assert.Equal(["CN=a.example.com"], seen);
    }

    [Fact]
    public async Task Simple_AlpnH2_ServesHttp2OverTls()
    {
        await using var backend = await TestBackend.StartAsync("httpbin");
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(Gateway(backend.Port, Context("gw", _pki.Server("a.example.com"), serverNames: "*")));
        var endpoint = proxy.ListenerEndpoint("gateway|443");

        using var client = Https(endpoint, [], version: HttpVersion.Version20);
        using var response = await client.GetAsync($"https://a.example.com:{endpoint.Port}/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("HTTP/1.1", response.Headers.GetValues("x-seen-protocol").Single());
    }

    [Fact]
    public async Task CipherSuitesAndMaxVersion_OnlyTheListedTls12SuiteIsNegotiated()
    {
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(Gateway(1, Context("gw", _pki.Server("a.example.com"), serverNames: "*") with
        {
            MaxProtocolVersion = TlsVersion.Tls12,
            CipherSuites = ["ECDHE-ECDSA-AES256-GCM-SHA384"],
        }));
        var endpoint = proxy.ListenerEndpoint("gateway|443");

        async Task<TlsCipherSuite> HandshakeAsync(SslProtocols protocols, TlsCipherSuite? only = null)
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(endpoint);
            await using var ssl = new SslStream(tcp.GetStream());
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "a.example.com",
                EnabledSslProtocols = protocols,
                CipherSuitesPolicy = only is { } suite && OperatingSystem.IsLinux() ? new CipherSuitesPolicy([suite]) : null,
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => Trusted(certificate, errors),
            });
            return ssl.NegotiatedCipherSuite;
        }

        Assert.Equal(TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, await HandshakeAsync(SslProtocols.Tls12 | SslProtocols.Tls13));
        await Assert.ThrowsAnyAsync<Exception>(() => HandshakeAsync(SslProtocols.Tls12, TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256));
        await Assert.ThrowsAnyAsync<Exception>(() => HandshakeAsync(SslProtocols.Tls13)); // above maxProtocolVersion
    }

    [Fact]
    public async Task Mutual_ClientWithoutCertificateOrFromAnotherCa_IsRefused_ClientSignedByCa_IsServed()
    {
        await using var backend = await TestBackend.StartAsync("httpbin");
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(Gateway(backend.Port,
            Context("gw", _pki.Server("a.example.com"), TlsTerminationMode.Mutual, _pki.CaPem, "a.example.com")));
        var endpoint = proxy.ListenerEndpoint("gateway|443");
        var url = $"https://a.example.com:{endpoint.Port}/";

        using (var anonymous = Https(endpoint, []))
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => anonymous.GetAsync(url));
        }

        using var otherCa = new TestCertificates("Someone Else's CA");
        using (var stranger = otherCa.Client("stranger").ToCertificate())
        using (var strangerClient = Https(endpoint, [], stranger))
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => strangerClient.GetAsync(url));
        }

        using var certificate = _pki.Client("client.example.com").ToCertificate();
        using var client = Https(endpoint, [], certificate);
        using var response = await client.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Mutual_PinnedByCertificateHashOrKeyHash_OnlyThePinnedClientIsServed()
    {
        await using var backend = await TestBackend.StartAsync("httpbin");
        await using var proxy = new ProxyUnderTest();
        using var pinned = _pki.Client("pinned.example.com").ToCertificate();
        using var byKey = _pki.Client("by-key.example.com").ToCertificate();
        using var other = _pki.Client("other.example.com").ToCertificate();
        var hash = string.Join(':', System.Security.Cryptography.SHA256.HashData(pinned.RawData).Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
        var spki = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(byKey.PublicKey.ExportSubjectPublicKeyInfo()));
        await proxy.ApplyAsync(Gateway(backend.Port,
            Context("gw", _pki.Server("a.example.com"), TlsTerminationMode.Mutual, _pki.CaPem, "a.example.com") with
            {
                VerifyCertificateHash = [hash],
                VerifyCertificateSpki = [spki],
            }));
        var endpoint = proxy.ListenerEndpoint("gateway|443");
        var url = $"https://a.example.com:{endpoint.Port}/";

        foreach (var allowed in (X509Certificate2[])[pinned, byKey])
        {
            using var client = Https(endpoint, [], allowed);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(url)).StatusCode);
        }

        using var stranger = Https(endpoint, [], other);
        await Assert.ThrowsAsync<HttpRequestException>(() => stranger.GetAsync(url));
    }

    [Fact]
    public async Task OptionalMutual_ClientWithoutCertificate_IsServed()
    {
        await using var backend = await TestBackend.StartAsync("httpbin");
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(Gateway(backend.Port,
            Context("gw", _pki.Server("a.example.com"), TlsTerminationMode.OptionalMutual, _pki.CaPem, "a.example.com")));
        var endpoint = proxy.ListenerEndpoint("gateway|443");

        using var client = Https(endpoint, []);
        using var response = await client.GetAsync($"https://a.example.com:{endpoint.Port}/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Rotation_NewCertificatePushed_NewHandshakesGetItAndOpenConnectionsKeepServing()
    {
        await using var backend = await TestBackend.StartAsync("httpbin");
        await using var proxy = new ProxyUnderTest();
        var first = _pki.Server("a.example.com");
        await proxy.ApplyAsync(Gateway(backend.Port, Context("gw", first, serverNames: "a.example.com")), "v1");
        var endpoint = proxy.ListenerEndpoint("gateway|443");
        var url = $"https://a.example.com:{endpoint.Port}/";
        var seenByOld = new List<string>();
        using var old = Https(endpoint, seenByOld);
        Assert.Equal(HttpStatusCode.OK, (await old.GetAsync(url)).StatusCode);

        var second = _pki.Server("a.example.com", "rotated.example.com");
        await proxy.ApplyAsync(Gateway(backend.Port, Context("gw", second, serverNames: "a.example.com")), "v2");

        // The open connection is reused (no second handshake) and still answers.
        Assert.Equal(HttpStatusCode.OK, (await old.GetAsync(url)).StatusCode);
        Assert.Single(seenByOld);
        Assert.Equal(endpoint, proxy.ListenerEndpoint("gateway|443"));

        // A new connection gets the new certificate (it alone names rotated.example.com).
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(endpoint);
        await using var ssl = new SslStream(tcp.GetStream());
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "a.example.com", RemoteCertificateValidationCallback = (_, certificate, _, errors) => Trusted(certificate, errors) });
        using var served = X509CertificateLoader.LoadCertificate(ssl.RemoteCertificate!.GetRawCertData());
        Assert.Contains("rotated.example.com", SanNames(served));
    }

    private static IEnumerable<string> SanNames(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(e => e.EnumerateDnsNames());

    [Fact]
    public async Task BadCertificate_IsNackedWithTheReason_AndThePreviousConfigKeepsServing()
    {
        await using var backend = await TestBackend.StartAsync("httpbin");
        await using var proxy = new ProxyUnderTest();
        var good = _pki.Server("a.example.com");
        await proxy.ApplyAsync(Gateway(backend.Port, Context("gw", good, serverNames: "a.example.com")), "v1");
        var endpoint = proxy.ListenerEndpoint("gateway|443");
        var other = _pki.Server("b.example.com");

        var mismatched = await proxy.Manager.ApplyAsync("v2", Gateway(backend.Port,
            Context("default/gw servers[0]", good with { PrivateKey = other.PrivateKey }, serverNames: "a.example.com")), CancellationToken.None);
        var garbage = await proxy.Manager.ApplyAsync("v3", Gateway(backend.Port,
            Context("default/gw servers[0]", good with { Certificate = "not a certificate" }, serverNames: "a.example.com")), CancellationToken.None);
        var mutualWithoutCa = await proxy.Manager.ApplyAsync("v4", Gateway(backend.Port,
            Context("default/gw servers[0]", good, TlsTerminationMode.Mutual, serverNames: "a.example.com")), CancellationToken.None);

        Assert.Equal("listener gateway|443: default/gw servers[0]: certificate: the private key does not match the certificate", mismatched);
        Assert.Equal("listener gateway|443: default/gw servers[0]: certificate: no PEM certificate found (expected a -----BEGIN CERTIFICATE----- block)", garbage);
        Assert.Equal("listener gateway|443: default/gw servers[0]: Mutual TLS requires CA certificates to verify clients", mutualWithoutCa);
        Assert.Equal("v1", proxy.Manager.CurrentVersion);
        using var client = Https(endpoint, []);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"https://a.example.com:{endpoint.Port}/")).StatusCode);
    }

    [Fact]
    public async Task ConfigDump_NeverShowsPrivateKeys()
    {
        await using var proxy = new ProxyUnderTest();
        var pair = _pki.Server("a.example.com");
        await proxy.ApplyAsync(Gateway(1, Context("gw", pair, serverNames: "a.example.com")));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0));
        await using var admin = builder.Build();
        admin.MapAdmin(proxy.Manager);
        await admin.StartAsync();
        using var client = Clients.Direct();

        var dump = await client.GetStringAsync(new Uri(new Uri(admin.Urls.First()), "/config_dump"));

        Assert.DoesNotContain("PRIVATE KEY", dump, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(dump);
        var context = json.RootElement.GetProperty("config").GetProperty("listeners")[0].GetProperty("tls").GetProperty("contexts")[0];
        Assert.Equal("[redacted]", context.GetProperty("privateKey").GetString());
        Assert.Equal(pair.Certificate, context.GetProperty("certificateChain").GetString());
        await admin.StopAsync();
    }
}
