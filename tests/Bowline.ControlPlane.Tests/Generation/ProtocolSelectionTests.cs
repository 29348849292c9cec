using Bowline.Api.Xds;
using Bowline.ControlPlane.Generation;

namespace Bowline.ControlPlane.Tests.Generation;

/// <summary>Istio's protocol selection table (docs: "Protocol Selection"; pilot's kube ConvertProtocol).</summary>
public sealed class ProtocolSelectionTests
{
    [Theory]
    // <protocol>[-<suffix>] port names, case-insensitive.
    [InlineData("http", ServiceProtocol.Http)]
    [InlineData("http-web", ServiceProtocol.Http)]
    [InlineData("HTTP", ServiceProtocol.Http)]
    [InlineData("http2", ServiceProtocol.Http2)]
    [InlineData("http2-api", ServiceProtocol.Http2)]
    [InlineData("grpc", ServiceProtocol.Grpc)]
    [InlineData("grpc-foo", ServiceProtocol.Grpc)]
    [InlineData("grpc-web", ServiceProtocol.GrpcWeb)]
    [InlineData("grpc-web-ui", ServiceProtocol.GrpcWeb)]
    [InlineData("https", ServiceProtocol.Https)]
    [InlineData("https-admin", ServiceProtocol.Https)]
    [InlineData("tcp", ServiceProtocol.Tcp)]
    [InlineData("tcp-other", ServiceProtocol.Tcp)]
    [InlineData("tls", ServiceProtocol.Tls)]
    [InlineData("tls-db", ServiceProtocol.Tls)]
    [InlineData("mongo", ServiceProtocol.Mongo)]
    [InlineData("redis", ServiceProtocol.Redis)]
    [InlineData("mysql", ServiceProtocol.MySql)]
    [InlineData("udp-dns", ServiceProtocol.Udp)]
    // Unnamed or unknown: Istio sniffs; Bowline treats these as HTTP (below).
    [InlineData(null, ServiceProtocol.Unsupported)]
    [InlineData("", ServiceProtocol.Unsupported)]
    [InlineData("web", ServiceProtocol.Unsupported)]
    [InlineData("httpx", ServiceProtocol.Unsupported)]
    [InlineData("tcpish-1", ServiceProtocol.Unsupported)]
    public void PortName_SelectsIstiosProtocol(string? name, object expected) =>
        Assert.Equal((ServiceProtocol)expected, Protocols.OfKubePort(name, null));

    [Theory]
    [InlineData("web", "tcp", ServiceProtocol.Tcp)]
    [InlineData("http", "tcp", ServiceProtocol.Tcp)] // appProtocol wins over the name
    [InlineData("tcp", "http", ServiceProtocol.Http)]
    [InlineData("db", "mysql", ServiceProtocol.MySql)]
    [InlineData("x", "kubernetes.io/h2c", ServiceProtocol.Http2)]
    [InlineData("x", "kubernetes.io/ws", ServiceProtocol.Http)]
    [InlineData("x", "kubernetes.io/wss", ServiceProtocol.Https)]
    [InlineData("tcp", "example.com/custom", ServiceProtocol.Unsupported)]
    public void AppProtocol_WinsOverTheName(string name, string appProtocol, object expected) =>
        Assert.Equal((ServiceProtocol)expected, Protocols.OfKubePort(name, appProtocol));

    [Fact]
    public void UdpServicePort_IsUdpWhateverItsName() =>
        Assert.Equal(ServiceProtocol.Udp, Protocols.OfKubePort("http", null, "UDP"));

    [Theory]
    [InlineData("HTTP", ServiceProtocol.Http)]
    [InlineData("HTTPS", ServiceProtocol.Https)]
    [InlineData("GRPC", ServiceProtocol.Grpc)]
    [InlineData("GRPC-WEB", ServiceProtocol.GrpcWeb)]
    [InlineData("HTTP2", ServiceProtocol.Http2)]
    [InlineData("MONGO", ServiceProtocol.Mongo)]
    [InlineData("TCP", ServiceProtocol.Tcp)]
    [InlineData("TLS", ServiceProtocol.Tls)]
    [InlineData("tcp", ServiceProtocol.Tcp)]
    public void IstioPortProtocol_GatewayAndServiceEntry(string protocol, object expected) =>
        Assert.Equal((ServiceProtocol)expected, Protocols.OfIstioPort(protocol));

    [Theory]
    [InlineData(ServiceProtocol.Unsupported, true, false, UpstreamProtocol.Http1)]
    [InlineData(ServiceProtocol.Http, true, false, UpstreamProtocol.Http1)]
    [InlineData(ServiceProtocol.Http2, true, false, UpstreamProtocol.Http2)]
    [InlineData(ServiceProtocol.Grpc, true, false, UpstreamProtocol.Http2)]
    [InlineData(ServiceProtocol.GrpcWeb, true, false, UpstreamProtocol.Http2)]
    [InlineData(ServiceProtocol.Https, false, true, UpstreamProtocol.Http1)]
    [InlineData(ServiceProtocol.Tls, false, true, UpstreamProtocol.Http1)]
    [InlineData(ServiceProtocol.Tcp, false, true, UpstreamProtocol.Http1)]
    [InlineData(ServiceProtocol.Mongo, false, true, UpstreamProtocol.Http1)]
    [InlineData(ServiceProtocol.Redis, false, true, UpstreamProtocol.Http1)]
    [InlineData(ServiceProtocol.MySql, false, true, UpstreamProtocol.Http1)]
    [InlineData(ServiceProtocol.Udp, false, false, UpstreamProtocol.Http1)]
    public void WhatBowlineDoesWithEach(object selected, bool http, bool opaque, UpstreamProtocol upstream)
    {
        var protocol = (ServiceProtocol)selected;
        Assert.Equal(http, protocol.IsHttp());
        Assert.Equal(opaque, protocol.IsOpaque());
        Assert.Equal(upstream, protocol.Upstream());
    }
}
