using Bowline.Api.Xds;
using Bowline.ControlPlane.Generation;

namespace Bowline.ControlPlane.Tests.Generation;

public sealed class TrafficPolicyGenerationTests
{
    // A reviews service with two ports, so port-level settings have something to choose between.
    private const string Services = """
        apiVersion: v1
        kind: Service
        metadata: {name: reviews}
        spec:
          selector: {app: reviews}
          ports: [{name: http, port: 9080}, {name: http-admin, port: 9090, targetPort: 9080}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: httpbin}
        spec:
          selector: {app: httpbin}
          ports: [{name: http, port: 8000}]
        """;

    // Istio's circuit-breaking task (tasks/traffic-management/circuit-breaking), verbatim.
    private const string IstioCircuitBreaker = """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata:
          name: httpbin
        spec:
          host: httpbin
          trafficPolicy:
            connectionPool:
              tcp:
                maxConnections: 1
              http:
                http1MaxPendingRequests: 1
                maxRequestsPerConnection: 1
            outlierDetection:
              consecutive5xxErrors: 1
              interval: 1s
              baseEjectionTime: 3m
              maxEjectionPercent: 100
        """;

    private const string Layered = """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reviews}
        spec:
          host: reviews
          trafficPolicy:
            loadBalancer: {simple: LEAST_REQUEST}
            connectionPool:
              tcp: {maxConnections: 100}
            outlierDetection: {consecutive5xxErrors: 7}
            portLevelSettings:
            - port: {number: 9090}
              loadBalancer: {simple: RANDOM}
          subsets:
          - name: v1
            labels: {version: v1}
          - name: v2
            labels: {version: v2}
            trafficPolicy:
              loadBalancer:
                consistentHash:
                  httpCookie: {name: user, ttl: 0s}
                  maglev: {tableSize: 1021}
              portLevelSettings:
              - port: {number: 9090}
                connectionPool:
                  http: {http2MaxRequests: 5}
        """;

    private static Cluster ClusterOf(string name, params string[] yaml)
    {
        var config = ProxyConfigGenerator.Generate(Bookinfo.Snapshot([Services, .. yaml]), Bookinfo.Registry(), Bookinfo.PodNamed("productpage-v1-0")).Config;
        return config.Clusters.Single(c => c.Name == name);
    }

    [Fact]
    public void Generate_IstioCircuitBreakerTask_LimitsAndOutlierDetectionPushed()
    {
        var cluster = ClusterOf("outbound|8000||httpbin.default.svc.cluster.local", IstioCircuitBreaker);

        Assert.Equal(new ConnectionPool { MaxConnections = 1, MaxPendingRequests = 1, MaxRequestsPerConnection = 1 }, cluster.ConnectionPool);
        Assert.Equal(new OutlierDetection
        {
            Consecutive5xxErrors = 1,
            Interval = TimeSpan.FromSeconds(1),
            BaseEjectionTime = TimeSpan.FromMinutes(3),
            MaxEjectionPercent = 100,
        }, cluster.OutlierDetection);
        Assert.Null(cluster.LoadBalancer);
    }

    [Fact]
    public void Generate_TopLevelOnly_AppliesToTheServiceAndEverySubset()
    {
        var whole = ClusterOf("outbound|9080||reviews.default.svc.cluster.local", Layered);
        var v1 = ClusterOf("outbound|9080|v1|reviews.default.svc.cluster.local", Layered);

        Assert.Equal(LoadBalancerPolicy.LeastRequest, whole.LoadBalancer!.Policy);
        Assert.Equal(100, whole.ConnectionPool!.MaxConnections);
        Assert.Equal(7, whole.OutlierDetection!.Consecutive5xxErrors);
        Assert.Equal((whole.LoadBalancer, whole.ConnectionPool, whole.OutlierDetection), (v1.LoadBalancer, v1.ConnectionPool, v1.OutlierDetection));
    }

    [Fact]
    public void Generate_PortLevelSettings_ReplaceEveryBlockForThatPort()
    {
        var admin = ClusterOf("outbound|9090||reviews.default.svc.cluster.local", Layered);

        // Istio: port-level policies do not inherit — blocks the port entry leaves unset fall back to defaults.
        Assert.Equal(LoadBalancerPolicy.Random, admin.LoadBalancer!.Policy);
        Assert.Null(admin.ConnectionPool);
        Assert.Null(admin.OutlierDetection);
    }

    [Fact]
    public void Generate_SubsetPolicy_OverridesBlockByBlock()
    {
        var v2 = ClusterOf("outbound|9080|v2|reviews.default.svc.cluster.local", Layered);

        var hash = v2.LoadBalancer!.ConsistentHash!;
        Assert.Equal(new HashCookie { Name = "user", Ttl = TimeSpan.Zero }, hash.HttpCookie);
        Assert.Equal((ConsistentHashAlgorithm.Maglev, 1021L), (hash.Algorithm, hash.TableSize));
        // Blocks the subset does not set come from the top level.
        Assert.Equal(100, v2.ConnectionPool!.MaxConnections);
        Assert.Equal(7, v2.OutlierDetection!.Consecutive5xxErrors);
    }

    [Fact]
    public void Generate_SubsetPortLevelSettings_OverrideTheSubsetForThatPort()
    {
        var v2Admin = ClusterOf("outbound|9090|v2|reviews.default.svc.cluster.local", Layered);
        var v1Admin = ClusterOf("outbound|9090|v1|reviews.default.svc.cluster.local", Layered);

        Assert.Equal(new ConnectionPool { MaxRequests = 5 }, v2Admin.ConnectionPool);
        Assert.Null(v2Admin.LoadBalancer);
        Assert.Null(v2Admin.OutlierDetection);
        // v1 has no policy of its own: the top level's port-level entry for 9090.
        Assert.Equal(LoadBalancerPolicy.Random, v1Admin.LoadBalancer!.Policy);
    }

    [Theory]
    [InlineData("{consistentHash: {httpHeaderName: X-User}}", "x-user", ConsistentHashAlgorithm.RingHash, 1024)]
    [InlineData("{consistentHash: {useSourceIp: true, ringHash: {minimumRingSize: 4096}}}", null, ConsistentHashAlgorithm.RingHash, 4096)]
    [InlineData("{consistentHash: {httpQueryParameterName: u, minimumRingSize: 2048}}", null, ConsistentHashAlgorithm.RingHash, 2048)]
    public void Generate_ConsistentHash_KeyAndRingSize(string lb, string? header, ConsistentHashAlgorithm algorithm, long ring)
    {
        var cluster = ClusterOf("outbound|8000||httpbin.default.svc.cluster.local", $$"""
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: httpbin}
            spec:
              host: httpbin
              trafficPolicy:
                loadBalancer: {{lb}}
            """);

        var hash = cluster.LoadBalancer!.ConsistentHash!;
        Assert.Equal((header, algorithm, ring), (hash.HttpHeaderName, hash.Algorithm, hash.MinimumRingSize));
    }

    [Theory]
    [InlineData("{}", 5, 0)]
    [InlineData("{consecutiveErrors: 3}", 0, 3)]
    [InlineData("{consecutiveGatewayErrors: 2}", 5, 2)]
    [InlineData("{consecutive5xxErrors: 0, consecutiveGatewayErrors: 4}", 0, 4)]
    public void Generate_OutlierDetection_IstioAndEnvoyDefaults(string outlier, int consecutive5xx, int gateway)
    {
        var cluster = ClusterOf("outbound|8000||httpbin.default.svc.cluster.local", $$"""
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: httpbin}
            spec:
              host: httpbin
              trafficPolicy:
                outlierDetection: {{outlier}}
            """);

        var o = cluster.OutlierDetection!;
        Assert.Equal((consecutive5xx, gateway), (o.Consecutive5xxErrors, o.ConsecutiveGatewayErrors));
        Assert.Equal((TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), 10, 0), (o.Interval, o.BaseEjectionTime, o.MaxEjectionPercent, o.MinHealthPercent));
    }

    [Fact]
    public void Generate_NoDestinationRule_NoPolicyPushed()
    {
        var cluster = ClusterOf("outbound|8000||httpbin.default.svc.cluster.local");

        Assert.Equal((null, null, null), (cluster.LoadBalancer, cluster.ConnectionPool, (OutlierDetection?)cluster.OutlierDetection));
    }

    [Fact]
    public void Serialize_ClusterPolicy_CamelCaseJsonRoundTrips()
    {
        var cluster = ClusterOf("outbound|9080|v2|reviews.default.svc.cluster.local", Layered);
        var json = System.Text.Json.JsonSerializer.Serialize(new ProxyConfig { Clusters = [cluster] }, XdsJson.Default.ProxyConfig);

        Assert.Contains("\"loadBalancer\":{\"policy\":\"RoundRobin\",\"consistentHash\":{\"httpCookie\":{\"name\":\"user\",\"ttl\":\"00:00:00\"}", json, StringComparison.Ordinal);
        Assert.Contains("\"algorithm\":\"Maglev\"", json, StringComparison.Ordinal);
        var back = System.Text.Json.JsonSerializer.Deserialize(json, XdsJson.Default.ProxyConfig)!.Clusters.Single();
        Assert.Equal((cluster.LoadBalancer, cluster.ConnectionPool, cluster.OutlierDetection), (back.LoadBalancer, back.ConnectionPool, back.OutlierDetection));
    }
}
