namespace Bowline.Api.Tests;

public class NotYetSupportedTests
{
    private static string[] Warnings(string yaml) => Diag.Validate("x.yaml", yaml).Warnings.Select(w => w.ToString()).ToArray();

    [Fact]
    public void Validate_Delegate_IsAcceptedWithALocatedWarningButMirrorIsSupported()
    {
        var result = Diag.Validate("vs.yaml", """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: reviews
            spec:
              hosts: [reviews]
              http:
              - delegate:
                  name: reviews-delegate
              - route:
                - destination: {host: reviews}
                mirror:
                  host: reviews-shadow
                mirrorPercentage: {value: 50}
                mirrors:
                - destination: {host: reviews, subset: v2}
                  percentage: {value: 10}
            """);

        Assert.True(result.IsValid);
        Assert.Equal(
            [
                "vs.yaml:8: spec.http[0].delegate: not supported by Bowline yet; ignored",
            ],
            result.Warnings.Select(w => w.ToString()));
    }

    [Fact]
    public void Validate_RedirectDirectResponseRewriteHeadersCors_AreSupportedSoNoWarning()
    {
        Assert.Empty(Warnings("""
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: reviews
            spec:
              hosts: [reviews]
              http:
              - match: [{uri: {prefix: /old}}]
                redirect: {uri: /new, redirectCode: 302}
              - match: [{uri: {exact: /health}}]
                directResponse: {status: 200, body: {string: ok}}
              - rewrite: {uri: /v2, authority: reviews.internal}
                corsPolicy:
                  allowOrigins: [{exact: "https://example.com"}]
                  allowMethods: [GET]
                headers:
                  request: {set: {x-a: "1"}}
                  response: {remove: [x-b]}
                route:
                - destination: {host: reviews}
                  headers:
                    request: {add: {x-c: "2"}}
            """));
    }

    [Fact]
    public void Validate_IstioMutualDestinationRule_WarnsThatTrafficStaysPlaintext()
    {
        Assert.Equal(
            ["x.yaml:8: spec.trafficPolicy.tls: TLS origination (including ISTIO_MUTUAL) is not supported by Bowline yet; traffic stays plaintext"],
            Warnings("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata:
                  name: reviews
                spec:
                  host: reviews
                  trafficPolicy:
                    tls:
                      mode: ISTIO_MUTUAL
                """));
    }

    [Fact]
    public void Validate_RoundRobinAndHttpServers_AreSupportedSoNoWarning()
    {
        Assert.Empty(Warnings("""
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata:
              name: reviews
            spec:
              host: reviews
              trafficPolicy:
                loadBalancer:
                  simple: ROUND_ROBIN
            ---
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata:
              name: gw
            spec:
              selector: {istio: ingressgateway}
              servers:
              - port: {number: 8080, name: http, protocol: HTTP}
                hosts: ["*"]
            """));
    }

    [Fact]
    public void Validate_HttpsTerminationAndHttpsRedirect_AreSupportedSoNoWarning()
    {
        Assert.Empty(Warnings("""
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata:
              name: gw
            spec:
              selector: {istio: ingressgateway}
              servers:
              - port: {number: 8080, name: http, protocol: HTTP}
                hosts: ["*"]
                tls: {httpsRedirect: true}
              - port: {number: 443, name: https, protocol: HTTPS}
                hosts: [a.example.com]
                tls: {mode: SIMPLE, credentialName: cert, minProtocolVersion: TLSV1_2}
              - port: {number: 443, name: https-b, protocol: HTTPS}
                hosts: [b.example.com]
                tls: {mode: MUTUAL, credentialName: cert-b, subjectAltNames: [client.example.com], verifyCertificateHash: ["AB:CD"]}
              - port: {number: 443, name: https-c, protocol: HTTPS}
                hosts: [c.example.com]
                tls: {mode: OPTIONAL_MUTUAL, serverCertificate: /c/cert.pem, privateKey: /c/key.pem, caCertificates: /c/ca.pem}
            """));
    }

    [Fact]
    public void Validate_IstioMutualServerAndUnknownCipherSuite_WarnThatTheyAreIgnored()
    {
        Assert.Equal(
            [
                "x.yaml:12: spec.servers[0].tls.mode: HTTPS servers with TLS mode ISTIO_MUTUAL are not supported by Bowline yet; ignored",
                "x.yaml:16: spec.servers[1].tls.cipherSuites[1]: unknown or unsupported cipher suite \"RC4-MD5\"; ignored",
            ],
            Warnings("""
                apiVersion: networking.istio.io/v1
                kind: Gateway
                metadata:
                  name: gw
                spec:
                  selector: {istio: ingressgateway}
                  servers:
                  - port: {number: 443, name: https, protocol: HTTPS}
                    hosts: ["*"]
                    tls:
                      credentialName: cert
                      mode: ISTIO_MUTUAL
                  - port: {number: 8443, name: https-2, protocol: HTTPS}
                    hosts: ["*"]
                    tls: {mode: SIMPLE, credentialName: cert,
                      cipherSuites: [ECDHE-RSA-AES256-GCM-SHA384, RC4-MD5]}
                """));
    }

    [Fact]
    public void Validate_TrafficPoliciesBowlineEnforces_NoWarning()
    {
        Assert.Empty(Warnings("""
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata:
              name: reviews
            spec:
              host: reviews
              trafficPolicy:
                loadBalancer:
                  simple: LEAST_REQUEST
                connectionPool:
                  tcp: {maxConnections: 1, connectTimeout: 2s, maxConnectionDuration: 1m, idleTimeout: 30m}
                  http: {http1MaxPendingRequests: 1, http2MaxRequests: 10, maxRequestsPerConnection: 1, maxRetries: 3, idleTimeout: 30s}
                outlierDetection: {consecutive5xxErrors: 1, consecutiveGatewayErrors: 2, interval: 1s, baseEjectionTime: 3m, maxEjectionPercent: 100, minHealthPercent: 50}
                portLevelSettings:
                - port: {number: 9080}
                  loadBalancer:
                    consistentHash: {httpCookie: {name: user, ttl: 0s}, maglev: {tableSize: 65537}}
              subsets:
              - name: v1
                labels: {version: v1}
                trafficPolicy:
                  loadBalancer: {consistentHash: {httpHeaderName: x-user, ringHash: {minimumRingSize: 2048}}}
            """));
    }

    [Fact]
    public void Validate_TrafficPolicyPartsNotEnforced_WarnWhereTheyAre()
    {
        Assert.Equal(
            [
                "x.yaml:9: spec.trafficPolicy.loadBalancer.localityLbSetting: not supported by Bowline yet; ignored",
                "x.yaml:10: spec.trafficPolicy.connectionPool.http.maxRequestsPerConnection: only 1 (a connection per request) is enforced by Bowline yet; larger values are ignored",
                "x.yaml:11: spec.trafficPolicy.tunnel: not supported by Bowline yet; ignored",
                "x.yaml:15: spec.subsets[0].trafficPolicy.portLevelSettings[0].loadBalancer.simple: PASSTHROUGH has no original destination to pass to locally; Bowline balances round robin",
            ],
            Warnings("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata:
                  name: reviews
                spec:
                  host: reviews
                  trafficPolicy:
                    loadBalancer:
                      localityLbSetting: {enabled: true}
                    connectionPool: {http: {maxRequestsPerConnection: 5}}
                    tunnel: {protocol: CONNECT, targetHost: a, targetPort: 1}
                  subsets:
                  - name: v1
                    trafficPolicy:
                      portLevelSettings: [{port: {number: 9080}, loadBalancer: {simple: PASSTHROUGH}}]
                """));
    }
    [Fact]
    public void Validate_GatewayTcpAndTlsPassthrough_WithTheirRoutes_NoWarning()
    {
        Assert.Empty(Warnings("""
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata:
              name: gw
            spec:
              selector: {istio: ingressgateway}
              servers:
              - port: {number: 31400, name: tcp, protocol: TCP}
                hosts: ["*"]
              - port: {number: 443, name: tls, protocol: TLS}
                hosts: ["*.example.com"]
                tls: {mode: PASSTHROUGH}
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: tcp-echo
            spec:
              hosts: ["*"]
              gateways: [gw]
              tcp:
              - match: [{port: 31400}]
                route: [{destination: {host: tcp-echo, port: {number: 9000}}}]
              tls:
              - match: [{port: 443, sniHosts: [api.example.com]}]
                route: [{destination: {host: api, port: {number: 443}}}]
            """));
    }

    [Fact]
    public void Validate_TcpAndTlsRoutesForSidecars_WarnThatOnlyGatewaysApplyThem()
    {
        Assert.Equal(
            [
                "x.yaml:8: spec.tcp: TCP routes for sidecars (gateways: mesh) are not supported by Bowline yet; ignored: apps reach services through HTTP_PROXY, which carries no raw TCP; gateway-bound tcp routes are in force",
                "x.yaml:10: spec.tls: TLS routes for sidecars (gateways: mesh) are not supported by Bowline yet; ignored: apps reach services through HTTP_PROXY, which carries no raw TCP; gateway-bound tls routes are in force",
            ],
            Warnings("""
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata:
                  name: db
                spec:
                  hosts: [db]
                  gateways: [mesh, gw]
                  tcp:
                  - route: [{destination: {host: db}}]
                  tls:
                  - match: [{sniHosts: [db]}]
                    route: [{destination: {host: db}}]
                """));
    }

    [Fact]
    public void Validate_TlsServerThatTerminates_StillWarns()
    {
        Assert.Equal(
            ["x.yaml:8: spec.servers[0].port.protocol: TLS servers are not supported by Bowline yet; ignored"],
            Warnings("""
                apiVersion: networking.istio.io/v1
                kind: Gateway
                metadata:
                  name: gw
                spec:
                  selector: {istio: ingressgateway}
                  servers:
                  - port: {number: 443, name: tls, protocol: TLS}
                    hosts: ["*"]
                    tls: {mode: SIMPLE, credentialName: cert}
                """));
    }
}
