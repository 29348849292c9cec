using Bowline.Api.Management;
using Bowline.Api.Validation;

namespace Bowline.Api.Tests;

public class ValidationTests
{
    private const string VsHead = """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: reviews
        spec:
          hosts: [reviews]
          http:
        """;

    private static string[] Errors(string yaml) => Diag.Errors("vs.yaml", yaml);

    [Fact]
    public void Validate_WeightsNotSummingTo100_IsAnError()
    {
        Assert.Equal(["vs.yaml:8: spec.http[0].route: weights sum to 90, must be 100"], Errors(VsHead + """

              - route:
                - destination: {host: reviews, subset: v1}
                  weight: 40
                - destination: {host: reviews, subset: v2}
                  weight: 50
            """));
    }

    [Fact]
    public void Validate_NegativeWeightAndEmptyHost_AreErrors()
    {
        Assert.Equal(
            [
                "vs.yaml:9: spec.http[0].route[0].destination.host: required field is missing",
                "vs.yaml:10: spec.http[0].route[0].weight: must not be negative, got -10",
            ],
            Errors(VsHead + """

              - route:
                - destination: {subset: v1}
                  weight: -10
                - destination: {host: reviews, subset: v2}
                  weight: 110
            """));
    }

    [Fact]
    public void Validate_SingleDestinationWithoutWeight_IsValid() =>
        Assert.Empty(Errors(VsHead + "\n  - route:\n    - destination: {host: reviews}\n"));

    [Fact]
    public void Validate_NoHostsAndNoRoutes_AreErrors()
    {
        Assert.Equal(
            ["vs.yaml:5: spec.hosts: at least one host is required", "vs.yaml:5: spec: at least one of http, tcp or tls routes is required"],
            Errors("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec: {}\n"));
    }

    [Fact]
    public void Validate_RouteAndRedirectTogether_IsAnError()
    {
        Assert.Equal(["vs.yaml:8: spec.http[0]: only one of route, redirect, directResponse or delegate may be set"], Errors(VsHead + """

              - redirect: {uri: /v2}
                route:
                - destination: {host: reviews}
            """));
    }

    [Fact]
    public void Validate_HttpRouteWithoutAction_IsAnError()
    {
        Assert.Equal(["vs.yaml:8: spec.http[0]: one of route, redirect, directResponse or delegate is required"], Errors(VsHead + """

              - match:
                - uri: {prefix: /}
            """));
    }

    [Fact]
    public void Validate_StringMatchWithTwoKinds_IsAnError()
    {
        Assert.Equal(["vs.yaml:9: spec.http[0].match[0].uri: only one of exact, prefix or regex may be set"], Errors(VsHead + """

              - match:
                - uri:
                    exact: /a
                    prefix: /b
                route:
                - destination: {host: reviews}
            """));
    }

    [Fact]
    public void Validate_InvalidRegex_QuotesPatternAndReason()
    {
        var error = Assert.Single(Errors(VsHead + """

              - match:
                - uri:
                    regex: "[a-"
                route:
                - destination: {host: reviews}
            """));
        Assert.Equal("vs.yaml:10: spec.http[0].match[0].uri.regex: invalid regex \"[a-\": Invalid pattern '[a-' at offset 3. Unterminated [] set.", error);
    }

    [Theory]
    [InlineData("(a)\\\\1", "backreferences are not supported (RE2 syntax)")]
    [InlineData("/api(?=/v1)", "lookaround assertions are not supported (RE2 syntax)")]
    [InlineData("/api(?!/v1)", "lookaround assertions are not supported (RE2 syntax)")]
    [InlineData("(?<=a)b", "lookaround assertions are not supported (RE2 syntax)")]
    [InlineData("(?<!a)b", "lookaround assertions are not supported (RE2 syntax)")]
    [InlineData("(?>a+)b", "atomic groups are not supported (RE2 syntax)")]
    public void Validate_RegexOutsideRe2_IsAnError(string regex, string reason)
    {
        Assert.Equal([$"vs.yaml:11: spec.http[0].match[0].headers.x-version.regex: invalid regex \"{regex.Replace("\\\\", "\\", StringComparison.Ordinal)}\": {reason}"], Errors(VsHead + $"""

              - match:
                - headers:
                    x-version:
                      regex: "{regex}"
                route:
                - destination: {"{"}host: reviews{"}"}
            """));
    }

    [Theory]
    [InlineData("^/api/v[0-9]+/.*$")]
    [InlineData("[(?=]x")]
    [InlineData("\\\\(?=")]
    [InlineData("^/api/(?P<version>v[0-9]+)/")]
    public void Validate_Re2CompatibleRegex_IsAccepted(string regex) =>
        Assert.Empty(Errors(VsHead + $"\n  - match:\n    - uri:\n        regex: \"{regex}\"\n    route:\n    - destination: {{host: reviews}}\n"));

    [Fact]
    public void Validate_TimeoutsRetriesFaults_CheckRanges()
    {
        Assert.Equal(
            [
                "vs.yaml:10: spec.http[0].timeout: duration must be at least 1ms, got 0.5ms",
                "vs.yaml:12: spec.http[0].retries.attempts: must not be negative, got -1",
                "vs.yaml:13: spec.http[0].retries.perTryTimeout: duration must be at least 1ms, got 0ms",
                "vs.yaml:18: spec.http[0].fault.abort.httpStatus: HTTP status 600 is out of range 200-599",
                "vs.yaml:17: spec.http[0].fault.abort.percentage.value: percentage 120 is out of range 0-100",
            ],
            Errors(VsHead + """

              - route:
                - destination: {host: reviews}
                timeout: 500us
                retries:
                  attempts: -1
                  perTryTimeout: 0s
                fault:
                  abort:
                    percentage:
                      value: 120
                    httpStatus: 600
            """));
    }

    [Fact]
    public void Validate_PortOutOfRange_IsAnError()
    {
        Assert.Equal(["vs.yaml:12: spec.http[0].route[0].destination.port.number: port number 70000 is out of range 1-65535"], Errors(VsHead + """

              - route:
                - destination:
                    host: reviews
                    port:
                      number: 70000
            """));
    }

    [Fact]
    public void Validate_RedirectAndRewrite_Sanity()
    {
        Assert.Equal(
            [
                "vs.yaml:8: spec.http[0].redirect.redirectCode: redirect code 200 is not one of 301, 302, 303, 307, 308",
                "vs.yaml:9: spec.http[1].redirect: redirect must specify uri, authority, port, derivePort or scheme",
                "vs.yaml:12: spec.http[2].rewrite: rewrite must specify uri, authority or uriRegexRewrite",
            ],
            Errors(VsHead + """

              - redirect: {uri: /new, redirectCode: 200}
              - redirect: {}
              - route:
                - destination: {host: reviews}
                rewrite: {}
            """));
    }

    [Fact]
    public void Validate_DestinationRule_SubsetsAndOutlierRanges()
    {
        Assert.Equal(
            [
                "dr.yaml:6: spec.host: required field is missing",
                "dr.yaml:9: spec.trafficPolicy.connectionPool.http.http1MaxPendingRequests: must not be negative, got -1",
                "dr.yaml:11: spec.trafficPolicy.outlierDetection.maxEjectionPercent: percentage 150 is out of range 0-100",
                "dr.yaml:14: spec.subsets[1].name: duplicate subset \"v1\"",
                "dr.yaml:15: spec.subsets[2].name: required field is missing",
            ],
            Diag.Errors("dr.yaml", """
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata:
                  name: reviews
                spec:
                  host: ""
                  trafficPolicy:
                    connectionPool:
                      http: {http1MaxPendingRequests: -1}
                    outlierDetection:
                      maxEjectionPercent: 150
                  subsets:
                  - name: v1
                  - name: v1
                  - labels: {version: v3}
                """));
    }

    [Fact]
    public void Validate_DestinationRule_ConsistentHashChecks()
    {
        Assert.Equal(
            [
                "dr.yaml:9: spec.trafficPolicy.loadBalancer.consistentHash: exactly one of httpHeaderName, httpCookie, httpQueryParameterName, useSourceIp is required",
                "dr.yaml:10: spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize: must be a prime number up to 5000011, got 65536",
            ],
            Diag.Errors("dr.yaml", """
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata:
                  name: reviews
                spec:
                  host: reviews
                  trafficPolicy:
                    loadBalancer:
                      consistentHash:
                        maglev: {tableSize: 65536}
                """));
    }

    [Fact]
    public void Validate_Gateway_ServerChecks()
    {
        Assert.Equal(
            [
                "gw.yaml:7: spec.servers[0].port.number: required field is missing",
                "gw.yaml:8: spec.servers[0].port.protocol: expected one of HTTP, HTTPS, GRPC, HTTP2, MONGO, TCP, TLS, got \"QUIC\"",
                "gw.yaml:7: spec.servers[0].port.name: required field is missing",
                "gw.yaml:7: spec.servers[0].hosts: at least one host is required",
                "gw.yaml:9: spec.servers[1].tls: a HTTPS server requires tls settings",
            ],
            Diag.Errors("gw.yaml", """
                apiVersion: networking.istio.io/v1
                kind: Gateway
                metadata:
                  name: gw
                spec:
                  servers:
                  - port:
                      protocol: QUIC
                  - port: {number: 443, name: https, protocol: https}
                    hosts: ["*"]
                """));
    }

    [Fact]
    public void Validate_GatewayWithoutServers_IsAnError() =>
        Assert.Equal(["gw.yaml:5: spec.servers: at least one server is required"], Diag.Errors("gw.yaml", "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: gw\nspec: {}\n"));

    [Fact]
    public void Validate_ServiceEntry_StaticNeedsAddresses()
    {
        Assert.Equal(
            [
                "se.yaml:5: spec.hosts: at least one host is required",
                "se.yaml:7: spec.ports[0].number: port number 99999 is out of range 1-65535",
                "se.yaml:10: spec.endpoints[0].address: resolution STATIC requires an address for every endpoint",
            ],
            Diag.Errors("se.yaml", """
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata:
                  name: ext
                spec:
                  ports:
                  - {number: 99999, name: tcp, protocol: TCP}
                  resolution: STATIC
                  endpoints:
                  - labels: {a: b}
                """));
        Assert.Equal(
            ["se.yaml:5: spec.endpoints: endpoints must be provided if service entry resolution mode is static"],
            Diag.Errors("se.yaml", "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: ext\nspec:\n  hosts: [db.internal]\n  resolution: STATIC\n"));
    }

    [Fact]
    public void Validate_InvalidNames_AreErrors()
    {
        Assert.Equal(
            [
                "vs.yaml:4: metadata.name: \"Reviews_v1\" is not a valid name: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
                "vs.yaml:5: metadata.namespace: \"Prod\" is not a valid namespace: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', start and end with an alphanumeric character, and be at most 63 characters",
            ],
            Diag.Errors("vs.yaml", "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: Reviews_v1\n  namespace: Prod\nspec:\n  hosts: [r]\n  http:\n  - route:\n    - destination: {host: r}\n"));
        Assert.Equal(
            ["svc.yaml:4: metadata.name: \"1reviews\" is not a valid Service name: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with a letter, end with an alphanumeric character, and be at most 63 characters"],
            Diag.Errors("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: 1reviews\nspec:\n  ports:\n  - port: 80\n"));
    }

    [Fact]
    public void Validate_Kubernetes_PortsReplicasContainers()
    {
        Assert.Equal(
            [
                "k.yaml:7: spec.ports[0].port: port number 70000 is out of range 1-65535",
                "k.yaml:13: spec.replicas: must not be negative, got -1",
                "k.yaml:16: spec.template.spec.containers: at least one container is required",
            ],
            Diag.Errors("k.yaml", """
                apiVersion: v1
                kind: Service
                metadata:
                  name: reviews
                spec:
                  ports:
                  - port: 70000
                ---
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: reviews-v1}
                spec:
                  replicas: -1
                  template:
                    spec:
                      containers: []
                """));
    }

    [Fact]
    public void Validate_DuplicatesAcrossFiles_NameBothLocations()
    {
        var result = ConfigValidator.Validate(
        [
            new ConfigFile { Name = "a.yaml", Content = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n" },
            new ConfigFile { Name = "b.yaml", Content = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: other\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n  namespace: default\n" },
            new ConfigFile { Name = "c.yaml", Content = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n  namespace: prod\n" },
        ]);
        Assert.Equal(["b.yaml:9: metadata.name: ServiceAccount default/sa is defined twice (first at a.yaml:1)"], result.Errors.Select(e => e.ToString()));
        Assert.False(result.IsValid);
    }

    [Fact]
    public void Validate_ParseWarnings_AreReportedSeparately()
    {
        var result = Diag.Validate("cm.yaml", "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: c\n");
        Assert.True(result.IsValid);
        Assert.Equal(["cm.yaml:1: PersistentVolumeClaim (v1) is not used by Bowline yet; ignored"], result.Warnings.Select(w => w.ToString()));
    }

    [Theory]
    [InlineData("reviews", true)]
    [InlineData("*", true)]
    [InlineData("*.example.com", true)]
    [InlineData("reviews.default.svc.cluster.local", true)]
    [InlineData("10.0.0.1", true)]
    [InlineData("prod/*.example.com", true)]
    [InlineData("./reviews", true)]
    [InlineData("*foo.example.com", false)]
    [InlineData("a..b", false)]
    [InlineData("under_score", false)]
    [InlineData("Bad_NS/host", false)]
    public void Validate_GatewayHostSyntax_FollowsIstio(string host, bool valid)
    {
        var errors = Diag.Errors("gw.yaml", $"apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: gw\nspec:\n  servers:\n  - port: {{number: 80, name: http, protocol: HTTP}}\n    hosts: [\"{host}\"]\n");
        Assert.Equal(valid, errors.Length == 0);
    }

    [Fact]
    public void Validate_BadVirtualServiceHost_IsAnError() =>
        Assert.Equal(
            ["vs.yaml:6: spec.hosts[0]: invalid host \"*foo.com\": expected a DNS name, optionally starting with \"*.\""],
            Errors("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: r\nspec:\n  hosts: [\"*foo.com\"]\n  http:\n  - route:\n    - destination: {host: r}\n"));
}
