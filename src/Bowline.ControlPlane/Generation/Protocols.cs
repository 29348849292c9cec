using Bowline.Api.Xds;

namespace Bowline.ControlPlane.Generation;

/// <summary>A port's protocol as Istio names them (Service port name / appProtocol, ServiceEntry and Gateway port protocol).</summary>
internal enum ServiceProtocol
{
    /// <summary>Unnamed or unknown: Istio sniffs the first bytes (HTTP/1, h2c, else TCP). Bowline treats it as HTTP.</summary>
    Unsupported,
    Http,
    Http2,
    Grpc,
    GrpcWeb,
    /// <summary>TLS carrying HTTP. A sidecar does not decrypt it: the same as <see cref="Tls"/>.</summary>
    Https,
    Tcp,
    Tls,
    /// <summary>Istio's mongo/redis/mysql filters are off by default: opaque TCP.</summary>
    Mongo,
    Redis,
    MySql,
    /// <summary>Not proxied by Istio.</summary>
    Udp,
}

/// <summary>
/// Istio's protocol selection (pilot's kube ConvertProtocol and protocol.Parse), in one place: an explicit appProtocol
/// wins, else the port name's prefix up to the first '-' ("grpc-web" whole), compared case-insensitively; Kubernetes'
/// own appProtocol names kubernetes.io/h2c, /ws and /wss map to HTTP2, HTTP and HTTPS. A UDP Service port is UDP.
/// </summary>
internal static class Protocols
{
    /// <summary>A Kubernetes Service port (or a container port, by its name only).</summary>
    public static ServiceProtocol OfKubePort(string? name, string? appProtocol, string? transport = null)
    {
        if (string.Equals(transport, "UDP", StringComparison.OrdinalIgnoreCase))
        {
            return ServiceProtocol.Udp;
        }

        var source = name;
        if (!string.IsNullOrEmpty(appProtocol))
        {
            switch (appProtocol)
            {
                case "kubernetes.io/h2c":
                    return ServiceProtocol.Http2;
                case "kubernetes.io/ws":
                    return ServiceProtocol.Http;
                case "kubernetes.io/wss":
                    return ServiceProtocol.Https;
            }

            source = appProtocol;
        }

        if (string.IsNullOrEmpty(source))
        {
            return ServiceProtocol.Unsupported;
        }

        // Checked before cutting at the first '-', which "grpc-web" itself contains (Istio checks the bare prefix too).
        if (source.StartsWith("grpc-web", StringComparison.OrdinalIgnoreCase))
        {
            return ServiceProtocol.GrpcWeb;
        }

        var dash = source.IndexOf('-', StringComparison.Ordinal);
        return Parse(dash < 0 ? source : source[..dash]);
    }

    /// <summary>A ServiceEntry or Gateway port's <c>protocol</c> (HTTP|HTTPS|GRPC|GRPC-WEB|HTTP2|MONGO|TCP|TLS, any case).</summary>
    public static ServiceProtocol OfIstioPort(string? protocol) => Parse(protocol);

    public static ServiceProtocol Parse(string? name) => name?.ToLowerInvariant() switch
    {
        "http" or "http_proxy" => ServiceProtocol.Http,
        "http2" => ServiceProtocol.Http2,
        "grpc" => ServiceProtocol.Grpc,
        "grpc-web" => ServiceProtocol.GrpcWeb,
        "https" => ServiceProtocol.Https,
        "tcp" => ServiceProtocol.Tcp,
        "tls" => ServiceProtocol.Tls,
        "mongo" => ServiceProtocol.Mongo,
        "redis" => ServiceProtocol.Redis,
        "mysql" => ServiceProtocol.MySql,
        "udp" => ServiceProtocol.Udp,
        _ => ServiceProtocol.Unsupported,
    };

    /// <summary>
    /// Proxied as HTTP by Bowline: HTTP, HTTP2, gRPC, gRPC-Web, and unnamed/unknown ports — where Istio would sniff the
    /// protocol, Bowline keeps treating the port as HTTP (what its apps, reached through HTTP_PROXY, speak).
    /// </summary>
    public static bool IsHttp(this ServiceProtocol p) =>
        p is ServiceProtocol.Http or ServiceProtocol.Http2 or ServiceProtocol.Grpc or ServiceProtocol.GrpcWeb or ServiceProtocol.Unsupported;

    /// <summary>Opaque bytes for a sidecar: TCP, TLS / HTTPS (not decrypted), and the mongo/redis/mysql ports. UDP is not.</summary>
    public static bool IsOpaque(this ServiceProtocol p) =>
        p is ServiceProtocol.Tcp or ServiceProtocol.Tls or ServiceProtocol.Https or ServiceProtocol.Mongo or ServiceProtocol.Redis or ServiceProtocol.MySql;

    /// <summary>How a cluster of this port talks HTTP upstream: h2c for http2/grpc/grpc-web, else HTTP/1.1.</summary>
    public static UpstreamProtocol Upstream(this ServiceProtocol p) =>
        p is ServiceProtocol.Http2 or ServiceProtocol.Grpc or ServiceProtocol.GrpcWeb ? UpstreamProtocol.Http2 : UpstreamProtocol.Http1;

    /// <summary>A Gateway server that Bowline serves as HTTP: HTTP, HTTP2, GRPC (as before; validation agrees).</summary>
    public static bool IsHttpServer(string? protocol) =>
        OfIstioPort(protocol) is ServiceProtocol.Http or ServiceProtocol.Http2 or ServiceProtocol.Grpc;

    /// <summary>The ServiceEntry port protocols Bowline routes (HTTP ones); TCP, TLS, HTTPS and the rest are skipped.</summary>
    public static bool IsHttpServiceEntryPort(string? protocol) =>
        OfIstioPort(protocol) is ServiceProtocol.Http or ServiceProtocol.Http2 or ServiceProtocol.Grpc or ServiceProtocol.GrpcWeb;
}
