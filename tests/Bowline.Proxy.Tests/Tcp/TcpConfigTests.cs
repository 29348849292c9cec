using Bowline.Api.Xds;
using Bowline.Proxy.Config;

namespace Bowline.Proxy.Tests.Tcp;

/// <summary>What the proxy NACKs in TCP / TLS listeners, and what it accepts.</summary>
public sealed class TcpConfigTests
{
    private static readonly Cluster Echo = new() { Name = "echo", Endpoints = [new Endpoint { Address = "127.0.0.1", Port = 9000 }] };

    private static Listener Gateway(ListenerProtocol protocol, params TcpRoute[] routes) => new()
    {
        Name = "gw",
        Kind = ListenerKind.Gateway,
        Address = "127.0.0.1",
        Port = 0,
        Protocol = protocol,
        TcpRoutes = [.. routes],
    };

    private static TcpRoute To(string cluster, params TcpRouteMatch[] matches) =>
        new() { Matches = [.. matches], Destinations = [new WeightedCluster { Cluster = cluster }] };

    private static string? Error(Listener listener, Cluster? cluster = null)
    {
        try
        {
            ConfigCompiler.Compile(new ProxyConfig { Listeners = [listener], Clusters = [cluster ?? Echo] });
            return null;
        }
        catch (ConfigException e)
        {
            return e.Message;
        }
    }

    [Fact]
    public void TlsListenerWithSniAndSubnetMatches_Compiles()
    {
        var match = new TcpRouteMatch { SniHosts = ["api.example.com", "*.example.com", "*"], DestinationSubnets = ["127.0.0.0/8", "::1"] };

        Assert.Null(Error(Gateway(ListenerProtocol.Tls, To("echo", match))));
    }

    [Theory]
    [InlineData("*.*.example.com")]
    [InlineData("api.*.com")]
    [InlineData("")]
    public void BadSniHost_IsRejected(string host) =>
        Assert.Contains("bad SNI host", Error(Gateway(ListenerProtocol.Tls, To("echo", new TcpRouteMatch { SniHosts = [host] }))));

    [Fact]
    public void SniMatchOnATcpListener_IsRejected() =>
        Assert.Contains("SNI matches need a Tls listener", Error(Gateway(ListenerProtocol.Tcp, To("echo", new TcpRouteMatch { SniHosts = ["a.example.com"] }))));

    [Fact]
    public void BadSubnet_IsRejected() =>
        Assert.Contains("bad destination subnet", Error(Gateway(ListenerProtocol.Tcp, To("echo", new TcpRouteMatch { DestinationSubnets = ["10.0.0.0/40"] }))));

    [Fact]
    public void UnknownCluster_IsRejected() =>
        Assert.Contains("unknown cluster 'nope'", Error(Gateway(ListenerProtocol.Tcp, To("nope"))));

    [Fact]
    public void InboundTcpListenerWithRoutes_IsRejected()
    {
        var inbound = Gateway(ListenerProtocol.Tcp, To("echo")) with { Kind = ListenerKind.Inbound, Cluster = "echo" };

        Assert.Contains("not routes", Error(inbound));
    }

    [Fact]
    public void NegativeTcpIdleTimeout_IsRejected() =>
        Assert.Contains("connectionPool", Error(Gateway(ListenerProtocol.Tcp, To("echo")),
            Echo with { ConnectionPool = new ConnectionPool { TcpIdleTimeout = TimeSpan.FromSeconds(-1) } }));

    [Fact]
    public void HttpListenerJson_WithoutProtocol_IsUnchanged()
    {
        var json = System.Text.Json.JsonSerializer.Serialize(
            new Listener { Name = "outbound", Kind = ListenerKind.Outbound, Address = "127.0.0.1", Port = 1, RouteTable = "outbound" },
            XdsJson.Default.Listener);

        Assert.Equal("""{"name":"outbound","kind":"Outbound","address":"127.0.0.1","port":1,"routeTable":"outbound"}""", json);
    }
}
