using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Bowline.Api.AccessLogs;
using Bowline.Api.Xds;
using Bowline.Proxy.Config;
using Bowline.Proxy.Pipeline;
using Bowline.Proxy.Telemetry.AccessLog;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Bowline.Proxy.Tests.Telemetry;

public sealed class AccessLogFormatTests
{
    /// <summary>The request of Istio's access log task (GET /status/418 to httpbin), with its figures.</summary>
    private static (HttpContext Context, ProxyRequestFeature Feature, long End) IstioExample()
    {
        var context = new DefaultHttpContext();
        context.Features.Set<IHttpRequestFeature>(new HttpRequestFeature
        {
            Method = "GET",
            Protocol = "HTTP/1.1",
            Path = "/status/418",
            RawTarget = "/status/418",
            Headers = new HeaderDictionary
            {
                ["user-agent"] = "curl/7.73.0-DEV",
                ["x-request-id"] = "84961386-6d84-929d-98bd-c5aee93b5c88",
                ["host"] = "httpbin:8000",
            },
        });
        context.Connection.LocalIpAddress = IPAddress.Parse("10.0.45.184");
        context.Connection.LocalPort = 8000;
        context.Connection.RemoteIpAddress = IPAddress.Parse("10.44.1.23");
        context.Connection.RemotePort = 46520;
        context.Response.StatusCode = 418;
        context.Response.Headers["x-envoy-upstream-service-time"] = "4";
        var end = Stopwatch.GetTimestamp();
        var feature = new ProxyRequestFeature
        {
            StartTime = new DateTime(2020, 11, 25, 21, 26, 18, 409, DateTimeKind.Utc),
            StartTimestamp = end - (long)(0.0045 * Stopwatch.Frequency),
            RouteName = "default",
            ClusterName = "outbound|8000||httpbin.foo.svc.cluster.local",
            UpstreamEndpoint = "http://10.44.1.27:80",
            UpstreamServiceTime = TimeSpan.FromMilliseconds(4),
            ResponseBodyBytes = 135,
            ListenerKind = ListenerKind.Outbound,
        };
        context.Features.Set(feature);
        return (context, feature, end);
    }

    private static string Format(AccessLogConfig config, (HttpContext Context, ProxyRequestFeature Feature, long End) r) =>
        AccessLogFormatter.Compile(config).Format(new RequestRecord(r.Context, r.Feature, r.End));

    [Fact]
    public void DefaultText_IstioExample_IsEnvoysLine()
    {
        var line = Format(new AccessLogConfig { Path = "/dev/stdout" }, IstioExample());

        // Istio's documented line, except the upstream local address Bowline cannot see ("-").
        Assert.Equal(
            "[2020-11-25T21:26:18.409Z] \"GET /status/418 HTTP/1.1\" 418 - via_upstream - \"-\" 0 135 4 4 \"-\" \"curl/7.73.0-DEV\" "
            + "\"84961386-6d84-929d-98bd-c5aee93b5c88\" \"httpbin:8000\" \"10.44.1.27:80\" outbound|8000||httpbin.foo.svc.cluster.local - "
            + "10.0.45.184:8000 10.44.1.23:46520 - default\n",
            line);
    }

    [Fact]
    public void DefaultText_IsIstiosFormatString()
    {
        Assert.Equal(
            "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% "
            + "%CONNECTION_TERMINATION_DETAILS% \"%UPSTREAM_TRANSPORT_FAILURE_REASON%\" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
            + "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" "
            + "\"%UPSTREAM_HOST%\" %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% "
            + "%REQUESTED_SERVER_NAME% %ROUTE_NAME%\n",
            AccessLogFormat.DefaultText);
    }

    [Fact]
    public void DefaultJson_IstioFieldsTypedAsEnvoy()
    {
        var line = Format(new AccessLogConfig { Path = "/dev/stdout", Encoding = LogEncoding.Json }, IstioExample());
        Assert.EndsWith("\n", line);
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        string[] expected =
        [
            "start_time", "route_name", "method", "path", "protocol", "response_code", "response_flags", "response_code_details",
            "connection_termination_details", "bytes_received", "bytes_sent", "duration", "upstream_service_time", "x_forwarded_for",
            "user_agent", "request_id", "authority", "upstream_host", "upstream_cluster", "upstream_local_address",
            "downstream_local_address", "downstream_remote_address", "requested_server_name", "upstream_transport_failure_reason",
        ];
        Assert.Equal(expected, root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("2020-11-25T21:26:18.409Z", root.GetProperty("start_time").GetString());
        Assert.Equal(418, root.GetProperty("response_code").GetInt32());
        Assert.Equal(135, root.GetProperty("bytes_sent").GetInt64());
        Assert.Equal(4, root.GetProperty("duration").GetInt64());
        Assert.Equal("4", root.GetProperty("upstream_service_time").GetString());
        Assert.Equal("-", root.GetProperty("response_flags").GetString());
        Assert.Equal("via_upstream", root.GetProperty("response_code_details").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("x_forwarded_for").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("upstream_local_address").ValueKind);
        Assert.Equal("/status/418", root.GetProperty("path").GetString());
        Assert.Equal("httpbin:8000", root.GetProperty("authority").GetString());
    }

    [Fact]
    public void CustomText_CommonOperatorsMissingValuesAndLengthLimit()
    {
        var example = IstioExample();
        example.Context.Request.Headers["x-envoy-original-path"] = "/before/rewrite";
        var line = Format(new AccessLogConfig
        {
            Path = "/dev/stdout",
            Format = "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %REQ(X-MISSING)% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% %REQ(USER-AGENT):4% 100%% %START_TIME(%Y/%m/%d %H:%M:%S.%3f)%",
        }, example);

        Assert.Equal("GET /before/rewrite - 4 curl 100% 2020/11/25 21:26:18.409\n", line);
    }

    [Fact]
    public void CustomJson_MixedValuesAreStrings()
    {
        var line = Format(new AccessLogConfig
        {
            Path = "/dev/stdout",
            Encoding = LogEncoding.Json,
            Format = """{"code":"%RESPONSE_CODE%","line":"%REQ(:METHOD)% %RESPONSE_CODE%","missing":"%REQ(X-NONE)%"}""",
        }, IstioExample());

        Assert.Equal("""{"code":418,"line":"GET 418","missing":null}""" + "\n", line);
    }

    [Fact]
    public void FlaggedLocalReply_CodeDetailsAndFlags()
    {
        var example = IstioExample();
        example.Feature.Flags = ResponseFlags.FaultInjected;
        example.Feature.UpstreamServiceTime = null;
        example.Feature.UpstreamEndpoint = null;
        var line = Format(new AccessLogConfig { Path = "/dev/stdout", Format = "%RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %UPSTREAM_HOST%" }, example);

        Assert.Equal("FI fault_filter_abort -\n", line);
    }

    [Theory]
    [InlineData("%BOGUS%", "command operator %BOGUS% is not supported by Bowline")]
    [InlineData("%REQ%", "command operator %REQ% needs a header name, e.g. %REQ(USER-AGENT)%")]
    [InlineData("[%START_TIME", "unterminated command operator at \"%START_TIME\"")]
    [InlineData("%REQ(HOST):x%", "command operator %REQ(HOST):x%: expected \":<length>\" after ')'")]
    public void BadFormat_IsRefusedWithTheReason(string format, string error)
    {
        Assert.Equal(error, AccessLogFormat.Parse(format).Error);
        var e = Assert.Throws<ConfigException>(() => AccessLogFormatter.Compile(new AccessLogConfig { Path = "/dev/stdout", Format = format }));
        Assert.Contains(error, e.Message, StringComparison.Ordinal);
    }
}
