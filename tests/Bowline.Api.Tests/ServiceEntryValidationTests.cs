using Bowline.Api.Resources;

namespace Bowline.Api.Tests;

/// <summary>ServiceEntry validation after Istio's validateServiceEntry, and the mesh config ConfigMap.</summary>
public class ServiceEntryValidationTests
{
    private static string Entry(string spec) => "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: ext\nspec:\n" + spec;

    [Fact]
    public void Validate_StaticWithHostnameEndpoint_IsAnError() =>
        Assert.Equal(
            ["se.yaml:10: spec.endpoints[0].address: \"api.example.com\" is not a valid IP address (resolution STATIC)"],
            Diag.Errors("se.yaml", Entry("""
                  hosts: [api.example.com]
                  ports: [{number: 80, name: http, protocol: HTTP}]
                  resolution: STATIC
                  endpoints:
                  - address: api.example.com
                """)));

    [Fact]
    public void Validate_NoneWithEndpoints_IsAnError() =>
        Assert.Equal(
            ["se.yaml:9: spec.endpoints: no endpoints should be provided for resolution type none"],
            Diag.Errors("se.yaml", Entry("""
                  hosts: ["*.example.com"]
                  ports: [{number: 80, name: http, protocol: HTTP}]
                  resolution: NONE
                  endpoints:
                  - address: 127.0.0.2
                """)));

    [Fact]
    public void Validate_DnsWithWildcardHostAndNoEndpoints_IsAnError() =>
        Assert.Equal(
            ["se.yaml:7: spec.hosts[0]: hosts must be FQDN if no endpoints are provided for resolution mode DNS"],
            Diag.Errors("se.yaml", Entry("""
                  hosts:
                  - "*.example.com"
                  ports: [{number: 80, name: http, protocol: HTTP}]
                  resolution: DNS
                """)));

    [Fact]
    public void Validate_DnsEndpoints_AcceptNamesAndIpsButNotGarbage()
    {
        // Istio accepts an IP as a DNS endpoint ("typically it is an IP address"), and any FQDN.
        Assert.Equal(
            ["se.yaml:11: spec.endpoints[1].address: endpoint address \"not a name\" is not a valid FQDN or an IP address"],
            Diag.Errors("se.yaml", Entry("""
                  hosts: [api.example.com]
                  ports: [{number: 80, name: http, protocol: HTTP}]
                  resolution: DNS
                  endpoints:
                  - address: localhost
                  - address: not a name
                  - address: 127.0.0.3
                """)));
    }

    [Fact]
    public void Validate_DnsRoundRobin_AllowsOneEndpointOnly() =>
        Assert.Equal(
            ["se.yaml:9: spec.endpoints: there must only be 0 or 1 endpoint for resolution mode DNS_ROUND_ROBIN"],
            Diag.Errors("se.yaml", Entry("""
                  hosts: [api.example.com]
                  ports: [{number: 80, name: http, protocol: HTTP}]
                  resolution: DNS_ROUND_ROBIN
                  endpoints:
                  - address: a.example.com
                  - address: b.example.com
                """)));

    [Fact]
    public void Validate_EndpointPortNotDeclaredAndDuplicatePortNumber_AreErrors() =>
        Assert.Equal(
            [
                "se.yaml:9: spec.ports[1].number: service entry port 80 already defined",
                "se.yaml:13: spec.endpoints[0].ports.https: endpoint port 8443 is not defined by the service entry",
            ],
            Diag.Errors("se.yaml", Entry("""
                  hosts: [api.example.com]
                  ports:
                  - {number: 80, name: http, protocol: HTTP}
                  - {number: 80, name: http-alt, protocol: HTTP}
                  resolution: STATIC
                  endpoints:
                  - address: 127.0.0.2
                    ports: {https: 8443}
                """)));

    [Fact]
    public void Validate_TcpPortsAndExportTo_AreLocatedWarnings_WorkloadSelectorIsSupported()
    {
        var result = Diag.Validate("se.yaml", Entry("""
              hosts: [db.example.com]
              exportTo: ["."]
              ports:
              - {number: 80, name: http, protocol: HTTP}
              - {number: 5432, name: tcp, protocol: TCP}
              resolution: STATIC
              workloadSelector:
                labels: {app: db}
            """));
        Assert.Equal([], result.Errors.Select(e => e.ToString()));
        Assert.Equal(
            [
                "se.yaml:10: spec.ports[1].protocol: TCP ports of ServiceEntries are not supported by Bowline yet; ignored",
                "se.yaml:7: spec.exportTo: limiting visibility is not supported by Bowline yet; ignored: every namespace sees the entry",
            ],
            result.Warnings.Select(w => w.ToString()));
    }

    [Fact]
    public void Validate_HttpServiceEntryWithEveryResolution_HasNoWarnings()
    {
        foreach (var resolution in (string[])["NONE", "DNS", "DNS_ROUND_ROBIN"])
        {
            var result = Diag.Validate("se.yaml", Entry($"""
                  hosts: [api.example.com]
                  location: MESH_EXTERNAL
                  ports: [{"{"}number: 80, name: http, protocol: HTTP{"}"}]
                  resolution: {resolution}
                """));
            Assert.True(result.IsValid, resolution);
            Assert.Empty(result.Warnings);
        }
    }

    [Fact]
    public void MeshConfig_ReadsOutboundTrafficPolicyFromTheIstioConfigMap()
    {
        var result = Diag.Validate("mesh.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: istio
              namespace: istio-system
            data:
              mesh: |-
                accessLogFile: /dev/stdout
                outboundTrafficPolicy:
                  mode: REGISTRY_ONLY
            """);
        Assert.True(result.IsValid);
        Assert.Empty(result.Warnings);
        Assert.Equal(OutboundTrafficPolicyMode.RegistryOnly, MeshConfig.From(result.Resources.Select(r => r.Resource).OfType<ConfigMap>()).OutboundMode);
        Assert.Equal(OutboundTrafficPolicyMode.AllowAny, MeshConfig.From([]).OutboundMode);
    }

    [Fact]
    public void MeshConfig_BadModeIsAnErrorAtDataMesh_OtherConfigMapsAreIgnoredWithAWarning()
    {
        Assert.Equal(
            ["mesh.yaml:7: data.mesh.outboundTrafficPolicy.mode: expected one of ALLOW_ANY, REGISTRY_ONLY, got \"BLOCK\""],
            Diag.Errors("mesh.yaml", """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: istio
                  namespace: istio-system
                data:
                  mesh: "outboundTrafficPolicy: {mode: BLOCK}"
                """));
        Assert.Equal(
            ["cm.yaml:4: metadata.name: only the mesh config ConfigMap (istio-system/istio) is read by Bowline; ignored"],
            Diag.Validate("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: b\n").Warnings.Select(w => w.ToString()));
    }

    [Fact]
    public void Validate_WorkloadEntry_NeedsAValidAddress_AndSelectorsRefuseWildcards()
    {
        var good = Diag.Validate("we.yaml", """
            apiVersion: networking.istio.io/v1
            kind: WorkloadEntry
            metadata: {name: vm-1}
            spec:
              address: 127.0.0.2
              labels: {app: legacy}
              ports: {http: 8080}
              weight: 2
            """);
        Assert.Empty(good.Errors);
        Assert.Empty(good.Warnings);
        Assert.Equal(
            [
                "we.yaml:5: spec.address: \"not an address\" is not a valid IP address or DNS name",
                "we.yaml:6: spec.ports.http: port number 0 is out of range 1-65535",
            ],
            Diag.Errors("we.yaml", "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: vm}\nspec:\n  address: not an address\n  ports: {http: 0}\n"));
        Assert.Equal(
            ["se.yaml:10: spec.workloadSelector.labels.app: wildcard is not supported in selector"],
            Diag.Errors("se.yaml", Entry("""
                  hosts: [legacy.example.com]
                  ports: [{number: 80, name: http, protocol: HTTP}]
                  resolution: STATIC
                  workloadSelector:
                    labels: {app: "*"}
                """)));
    }
}
