using Bowline.Api.Xds;

namespace Bowline.ControlPlane.Generation;

/// <summary>Istio's protocol selection: explicit appProtocol, else the port name's prefix ("grpc-web", "http2-foo").</summary>
internal static class Protocols
{
    public static UpstreamProtocol OfKubePort(string? name, string? appProtocol) =>
        IsHttp2(appProtocol) || IsHttp2(Prefix(name)) ? UpstreamProtocol.Http2 : UpstreamProtocol.Http1;

    /// <summary>ServiceEntry / Gateway port protocols (HTTP, HTTP2, GRPC, ...): HTTP/2 for HTTP2 and gRPC, else HTTP/1.1.</summary>
    public static UpstreamProtocol OfIstioPort(string? protocol) =>
        IsHttp2(protocol) ? UpstreamProtocol.Http2 : UpstreamProtocol.Http1;

    public static bool IsHttpServer(string? protocol) =>
        protocol is not null && (protocol.Equals("HTTP", StringComparison.OrdinalIgnoreCase)
            || protocol.Equals("HTTP2", StringComparison.OrdinalIgnoreCase)
            || protocol.Equals("GRPC", StringComparison.OrdinalIgnoreCase));

    /// <summary>The ServiceEntry port protocols Bowline routes (HTTP ones); TCP, TLS, HTTPS and the rest are skipped.</summary>
    public static bool IsHttpServiceEntryPort(string? protocol) =>
        IsHttpServer(protocol) || string.Equals(protocol, "GRPC-WEB", StringComparison.OrdinalIgnoreCase);

    private static bool IsHttp2(string? p) =>
        p is not null && (p.Equals("http2", StringComparison.OrdinalIgnoreCase)
            || p.Equals("grpc", StringComparison.OrdinalIgnoreCase)
            || p.Equals("grpc-web", StringComparison.OrdinalIgnoreCase));

    // "grpc-web-foo" → "grpc-web", "http2-x" → "http2", "grpc" → "grpc".
    private static string? Prefix(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return null;
        }

        if (name.StartsWith("grpc-web", StringComparison.OrdinalIgnoreCase)
            && (name.Length == 8 || name[8] == '-'))
        {
            return "grpc-web";
        }

        var dash = name.IndexOf('-', StringComparison.Ordinal);
        return dash < 0 ? name : name[..dash];
    }
}
