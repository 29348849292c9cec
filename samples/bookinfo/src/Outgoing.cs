using System.Net.Http.Headers;
using System.Text;

namespace Bookinfo;

/// <summary>
/// Calls to the other bookinfo services. They go to plain service names (http://reviews:9080/...) through the
/// standard HTTP_PROXY environment variable, which .NET's HttpClient honours by default: in a mesh that is the
/// sidecar. The app never resolves the names itself.
/// </summary>
internal static class Outgoing
{
    /// <summary>
    /// Headers forwarded from the incoming request to every outgoing call, as Istio's bookinfo does, so traces
    /// join up and header-based routing (end-user) works at every hop.
    /// </summary>
    public static readonly string[] PropagatedHeaders =
    [
        "x-request-id",
        "x-ot-span-context",
        "x-datadog-trace-id",
        "x-datadog-parent-id",
        "x-datadog-sampling-priority",
        "traceparent",
        "tracestate",
        "x-cloud-trace-context",
        "grpc-trace-bin",
        "x-b3-traceid",
        "x-b3-spanid",
        "x-b3-parentspanid",
        "x-b3-sampled",
        "x-b3-flags",
        "b3",
        "sw8",
        "end-user",
        "user-agent",
        "cookie",
        "authorization",
        "jwt",
    ];

    /// <summary>One client for the process. UseProxy is left on (the default) so HTTP_PROXY applies.</summary>
    public static readonly HttpClient Client = new(new SocketsHttpHandler
    {
        UseProxy = true,
        // Cookies are forwarded per request from the incoming call; a shared jar would leak them between users.
        UseCookies = false,
        AllowAutoRedirect = false,
        // Forward the trace headers as received instead of letting HttpClient write its own traceparent.
        ActivityHeadersPropagator = null,
        PooledConnectionLifetime = TimeSpan.FromMinutes(1),
        // Forwarded values (end-user, user-agent) may hold non-ASCII characters: send them as UTF-8.
        RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8,
    })
    {
        // Each call sets its own deadline.
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>
    /// The base URL of a bookinfo service, e.g. http://reviews:9080. Like Istio's bookinfo, the name and port can be
    /// changed with &lt;NAME&gt;_HOSTNAME, &lt;NAME&gt;_SERVICE_PORT and SERVICES_DOMAIN (e.g. ".default.svc.cluster.local").
    /// </summary>
    public static string ServiceUrl(string name)
    {
        var prefix = name.ToUpperInvariant();
        var host = Env($"{prefix}_HOSTNAME") ?? name;
        var domain = Env("SERVICES_DOMAIN") ?? "";
        var port = Env($"{prefix}_SERVICE_PORT") ?? "9080";
        return $"http://{host}{domain}:{port}";
    }

    /// <summary>The incoming request's propagated headers.</summary>
    public static List<KeyValuePair<string, string>> ForwardHeaders(HttpRequest incoming)
    {
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var name in PropagatedHeaders)
        {
            if (incoming.Headers.TryGetValue(name, out var values) && !string.IsNullOrEmpty(values.ToString()))
            {
                headers.Add(new(name, values.ToString()));
            }
        }
        return headers;
    }

    /// <summary>
    /// GET url with the given headers and a deadline. Returns the status and body, or (null, error) when the call
    /// failed or timed out. Never throws except when the incoming request itself was aborted.
    /// </summary>
    public static async Task<OutgoingResult> GetAsync(
        string url, IEnumerable<KeyValuePair<string, string>> headers, TimeSpan timeout, CancellationToken aborted)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        deadline.CancelAfter(timeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        try
        {
            using var response = await Outgoing.Client.SendAsync(request, HttpCompletionOption.ResponseContentRead, deadline.Token);
            var body = await response.Content.ReadAsStringAsync(deadline.Token);
            return new OutgoingResult((int)response.StatusCode, body, null);
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
            return new OutgoingResult(null, null, $"timeout after {timeout.TotalSeconds:0.###}s");
        }
        catch (HttpRequestException e)
        {
            return new OutgoingResult(null, null, e.Message);
        }
    }

    private static string? Env(string name)
    {
        var value = Environment.GetEnvironmentVariable(name);
        return string.IsNullOrEmpty(value) ? null : value;
    }
}

/// <summary>The outcome of an outgoing call: Status is null when no response arrived.</summary>
internal sealed record OutgoingResult(int? Status, string? Body, string? Error)
{
    public bool Ok => Status == 200 && Body is not null;

    public override string ToString() => Status is { } status ? $"HTTP {status}" : Error ?? "no response";
}
