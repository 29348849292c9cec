namespace Bowline.Api.Tls;

/// <summary>
/// Gateway <c>cipherSuites</c>: Envoy's (OpenSSL/BoringSSL) names for TLS 1.2 suites, with their IANA names (what .NET's
/// TlsCipherSuite calls them). The table is Envoy's default server list; like Istio, names outside it are dropped with
/// a warning. TLS 1.3 suites are not configurable in Envoy, so they stay enabled.
/// </summary>
public static class CipherSuiteNames
{
    public static readonly IReadOnlyDictionary<string, string> Iana = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["ECDHE-ECDSA-AES128-GCM-SHA256"] = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        ["ECDHE-ECDSA-CHACHA20-POLY1305"] = "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        ["ECDHE-RSA-AES128-GCM-SHA256"] = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        ["ECDHE-RSA-CHACHA20-POLY1305"] = "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        ["ECDHE-ECDSA-AES256-GCM-SHA384"] = "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        ["ECDHE-RSA-AES256-GCM-SHA384"] = "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        ["ECDHE-ECDSA-AES128-SHA"] = "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        ["ECDHE-RSA-AES128-SHA"] = "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        ["AES128-GCM-SHA256"] = "TLS_RSA_WITH_AES_128_GCM_SHA256",
        ["AES128-SHA"] = "TLS_RSA_WITH_AES_128_CBC_SHA",
        ["ECDHE-ECDSA-AES256-SHA"] = "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        ["ECDHE-RSA-AES256-SHA"] = "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        ["AES256-GCM-SHA384"] = "TLS_RSA_WITH_AES_256_GCM_SHA384",
        ["AES256-SHA"] = "TLS_RSA_WITH_AES_256_CBC_SHA",
    };
}
