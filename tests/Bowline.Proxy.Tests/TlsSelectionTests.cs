using Bowline.Api.Xds;
using Bowline.Proxy.Config;
using Bowline.Proxy.Listeners.Tls;
using Bowline.Proxy.Tests.Infrastructure;

namespace Bowline.Proxy.Tests;

/// <summary>SNI → context, as Envoy picks a filter chain: exact, then the longest wildcard, then "*".</summary>
public sealed class TlsSelectionTests : IDisposable
{
    private readonly TestCertificates _pki = new();

    public void Dispose() => _pki.Dispose();

    private TlsContext Context(string name, params string[] serverNames)
    {
        var pair = _pki.Server(name);
        return new TlsContext { Name = name, ServerNames = [.. serverNames], CertificateChain = pair.Certificate, PrivateKey = pair.PrivateKey };
    }

    private static string Subject(CompiledTls tls, string? sni) =>
        tls.Select(sni).ServerCertificateContext!.TargetCertificate.Subject;

    [Fact]
    public void Select_ExactBeforeLongestWildcardBeforeStar_CaseInsensitive()
    {
        var tls = TlsCompiler.Compile(new ListenerTls
        {
            Contexts =
            [
                Context("any", "*"),
                Context("wide", "*.example.com"),
                Context("narrow", "*.api.example.com"),
                Context("exact", "v1.api.example.com"),
            ],
        }, "listener gateway|443");

        Assert.Equal("CN=exact", Subject(tls, "V1.API.example.com"));
        Assert.Equal("CN=narrow", Subject(tls, "v2.api.example.com"));
        Assert.Equal("CN=wide", Subject(tls, "shop.example.com"));
        Assert.Equal("CN=any", Subject(tls, "example.com")); // "*.example.com" needs a label before the suffix
        Assert.Equal("CN=any", Subject(tls, null));
    }

    [Fact]
    public void Select_NoStarContext_UnknownNameOrNoSniFailsTheHandshake_AndTheFirstServerKeepsADuplicateName()
    {
        var tls = TlsCompiler.Compile(new ListenerTls
        {
            Contexts = [Context("first", "a.example.com"), Context("second", "a.example.com", "b.example.com")],
        }, "listener gateway|443");

        Assert.Equal("CN=first", Subject(tls, "a.example.com"));
        Assert.Equal("CN=second", Subject(tls, "b.example.com"));
        Assert.Equal("no TLS server for SNI \"c.example.com\"",
            Assert.Throws<System.Security.Authentication.AuthenticationException>(() => tls.Select("c.example.com")).Message);
        Assert.Throws<System.Security.Authentication.AuthenticationException>(() => tls.Select(null));
    }

    [Fact]
    public void Compile_UnreadableFileOrInvertedVersions_IsAConfigError()
    {
        var missing = Assert.Throws<ConfigException>(() => TlsCompiler.Compile(new ListenerTls
        {
            Contexts = [new TlsContext { Name = "gw", CertificateFile = "/nonexistent/cert.pem", PrivateKeyFile = "/nonexistent/key.pem" }],
        }, "listener gateway|443"));
        Assert.StartsWith("listener gateway|443: gw: cannot read the certificate file /nonexistent/cert.pem", missing.Message, StringComparison.Ordinal);

        var inverted = Assert.Throws<ConfigException>(() => TlsCompiler.Compile(new ListenerTls
        {
            Contexts = [Context("gw", "*") with { MinProtocolVersion = TlsVersion.Tls13, MaxProtocolVersion = TlsVersion.Tls12 }],
        }, "listener gateway|443"));
        Assert.Equal("listener gateway|443: gw: minProtocolVersion Tls13 is above maxProtocolVersion Tls12", inverted.Message);
    }
}
