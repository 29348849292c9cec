using Bowline.Api.Management;
using Bowline.Cli.Up;

namespace Bowline.Cli.Tests;

public sealed class ManifestReaderTests
{
    private const string Reviews = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: reviews-v2
          namespace: shop
          annotations:
            bowline.io/command: "from-deployment"
            bowline.io/build: "make reviews"
        spec:
          replicas: 3
          template:
            metadata:
              labels: {app: reviews, version: v2}
              annotations:
                bowline.io/command: "python3 reviews.py"
            spec:
              serviceAccountName: bookinfo-reviews
              containers:
              - name: reviews
                ports:
                - containerPort: 9080
                  name: http
                - containerPort: 9090
                env:
                - {name: STAR_COLOR, value: black}
                - {name: EMPTY}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: reviews}
        spec:
          ports: [{port: 9080}]
        """;

    [Fact]
    public void ReadsDeploymentFieldsWithTemplateAnnotationsWinning()
    {
        var manifests = ManifestReader.Read([File("/mesh/reviews.yaml", Reviews)]);

        var d = Assert.Single(manifests.Deployments);
        Assert.Equal("reviews-v2", d.Name);
        Assert.Equal("shop", d.Namespace);
        Assert.Equal(3, d.Replicas);
        Assert.Equal("reviews", d.Labels["app"]);
        Assert.Equal("v2", d.Labels["version"]);
        Assert.Equal("bookinfo-reviews", d.ServiceAccount);
        Assert.Equal("python3 reviews.py", d.Command);
        Assert.Equal("make reviews", d.Build);
        Assert.Equal([new DeclaredPort(9080, "http"), new DeclaredPort(9090, null)], d.Ports.ToArray());
        Assert.Equal([new("STAR_COLOR", "black"), new("EMPTY", "")], d.Env.ToArray());
        Assert.Equal("/mesh", d.Folder);
        Assert.Empty(manifests.Gateways);
    }

    [Fact]
    public void DefaultsNamespaceReplicasAndServiceAccount()
    {
        var manifests = ManifestReader.Read([File("/m/a.yaml", """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: ratings-v1}
            spec:
              template:
                spec:
                  containers: [{name: ratings}]
            """)]);

        var d = Assert.Single(manifests.Deployments);
        Assert.Equal("default", d.Namespace);
        Assert.Equal(1, d.Replicas);
        Assert.Equal("default", d.ServiceAccount);
        Assert.Null(d.Command);
        Assert.Empty(d.Ports);
    }

    [Fact]
    public void ReadsIstioGatewayServerPortsAndSelector()
    {
        var manifests = ManifestReader.Read([File("/m/gw.yaml", """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: bookinfo-gateway}
            spec:
              selector: {istio: ingressgateway}
              servers:
              - port: {number: 8080, name: http, protocol: HTTP}
                hosts: ["*"]
              - port: {number: 8443, name: other, protocol: HTTP}
                hosts: ["*"]
            """)]);

        var g = Assert.Single(manifests.Gateways);
        Assert.Equal("bookinfo-gateway", g.Name);
        Assert.Equal([8080, 8443], g.Ports.ToArray());
        Assert.Equal("ingressgateway", g.Selector["istio"]);
        Assert.Empty(g.HttpsPorts);
    }

    [Fact]
    public void ReadsWhichGatewayPortsServeHttps()
    {
        var manifests = ManifestReader.Read([File("/m/gw.yaml", """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: secure}
            spec:
              selector: {istio: ingressgateway}
              servers:
              - port: {number: 8080, name: http, protocol: HTTP}
                hosts: ["*"]
                tls: {httpsRedirect: true}
              - port: {number: 8443, name: https, protocol: HTTPS}
                hosts: ["*"]
                tls: {mode: SIMPLE, credentialName: cert}
            """)]);

        var g = Assert.Single(manifests.Gateways);
        Assert.Equal([8080, 8443], g.Ports.ToArray());
        Assert.Equal([8443], g.HttpsPorts.ToArray());
    }

    [Fact]
    public void GatewayTcpAndTlsServerPorts_AreKnownAsTcp()
    {
        var manifests = ManifestReader.Read([File("/m/gw.yaml", """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: tcp-echo-gateway}
            spec:
              selector: {istio: ingressgateway}
              servers:
              - port: {number: 31400, name: tcp, protocol: TCP}
                hosts: ["*"]
              - port: {number: 443, name: tls, protocol: TLS}
                hosts: ["*"]
                tls: {mode: PASSTHROUGH}
              - port: {number: 8080, name: http, protocol: HTTP}
                hosts: ["*"]
            """)]);

        var g = Assert.Single(manifests.Gateways);
        Assert.Equal([31400, 443, 8080], g.Ports.ToArray());
        Assert.Equal([31400, 443], g.TcpPorts.ToArray());
    }

    [Fact]
    public void ReportsFileAndLineForBadReplicas()
    {
        var e = Assert.Throws<ManifestException>(() => ManifestReader.Read([File("x.yaml", """
            kind: Deployment
            metadata: {name: a}
            spec:
              replicas: lots
            """)]));
        Assert.StartsWith("x.yaml:4: replicas", e.Message);
    }

    [Fact]
    public void ReportsYamlSyntaxErrorsWithFileName()
    {
        var e = Assert.Throws<ManifestException>(() => ManifestReader.Read([File("bad.yaml", "a: [1, 2\nb: c")]));
        Assert.StartsWith("bad.yaml:", e.Message);
    }

    private static ConfigFile File(string name, string content) => new() { Name = name, Content = content };
}
