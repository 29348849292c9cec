namespace Bowline.Api.Resources;

// Istio networking.istio.io VirtualService (v1/v1beta1/v1alpha3 share the schema). Property names are the
// PascalCase of Istio's field names; durations are TimeSpan (Istio/Go syntax "1.5s", "100ms", "1h").

public sealed record VirtualService : Resource
{
    public VirtualServiceSpec Spec { get; init; } = new();
}

public sealed record VirtualServiceSpec
{
    public IReadOnlyList<string> Hosts { get; init; } = [];
    public IReadOnlyList<string> Gateways { get; init; } = [];
    public IReadOnlyList<HTTPRoute> Http { get; init; } = [];
    public IReadOnlyList<TLSRoute> Tls { get; init; } = [];
    public IReadOnlyList<TCPRoute> Tcp { get; init; } = [];
    public IReadOnlyList<string> ExportTo { get; init; } = [];
}

public sealed record HTTPRoute
{
    public string? Name { get; init; }
    public IReadOnlyList<HTTPMatchRequest> Match { get; init; } = [];
    public IReadOnlyList<HTTPRouteDestination> Route { get; init; } = [];
    public HTTPRedirect? Redirect { get; init; }
    public HTTPDirectResponse? DirectResponse { get; init; }
    public Delegate? Delegate { get; init; }
    public HTTPRewrite? Rewrite { get; init; }
    public TimeSpan? Timeout { get; init; }
    public HTTPRetry? Retries { get; init; }
    public HTTPFaultInjection? Fault { get; init; }
    public Destination? Mirror { get; init; }
    public IReadOnlyList<HTTPMirrorPolicy> Mirrors { get; init; } = [];
    public Percent? MirrorPercentage { get; init; }
    /// <summary>Deprecated in Istio in favour of mirrorPercentage; still accepted.</summary>
    public int? MirrorPercent { get; init; }
    public CorsPolicy? CorsPolicy { get; init; }
    public Headers? Headers { get; init; }
}

public sealed record HTTPMatchRequest
{
    public string? Name { get; init; }
    public StringMatch? Uri { get; init; }
    public StringMatch? Scheme { get; init; }
    public StringMatch? Method { get; init; }
    public StringMatch? Authority { get; init; }
    public IReadOnlyDictionary<string, StringMatch> Headers { get; init; } = new Dictionary<string, StringMatch>();
    public int? Port { get; init; }
    public IReadOnlyDictionary<string, string> SourceLabels { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> Gateways { get; init; } = [];
    public IReadOnlyDictionary<string, StringMatch> QueryParams { get; init; } = new Dictionary<string, StringMatch>();
    public bool IgnoreUriCase { get; init; }
    public IReadOnlyDictionary<string, StringMatch> WithoutHeaders { get; init; } = new Dictionary<string, StringMatch>();
    public string? SourceNamespace { get; init; }
    public string? StatPrefix { get; init; }
}

/// <summary>Exactly one of exact, prefix, regex (validation checks it; an empty match means "present").</summary>
public sealed record StringMatch
{
    public string? Exact { get; init; }
    public string? Prefix { get; init; }
    public string? Regex { get; init; }
}

public sealed record HTTPRouteDestination
{
    public Destination Destination { get; init; } = new();
    public int? Weight { get; init; }
    public Headers? Headers { get; init; }
}

public sealed record RouteDestination
{
    public Destination Destination { get; init; } = new();
    public int? Weight { get; init; }
}

public sealed record Destination
{
    public string Host { get; init; } = "";
    public string? Subset { get; init; }
    public PortSelector? Port { get; init; }
}

public sealed record PortSelector
{
    public int Number { get; init; }
}

public sealed record Headers
{
    public HeaderOperations? Request { get; init; }
    public HeaderOperations? Response { get; init; }
}

public sealed record HeaderOperations
{
    public IReadOnlyDictionary<string, string> Set { get; init; } = new Dictionary<string, string>();
    public IReadOnlyDictionary<string, string> Add { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> Remove { get; init; } = [];
}

public enum RedirectPortSelection
{
    FromProtocolDefault,
    FromRequestPort,
}

public sealed record HTTPRedirect
{
    public string? Uri { get; init; }
    public string? Authority { get; init; }
    public int? Port { get; init; }
    public RedirectPortSelection? DerivePort { get; init; }
    public string? Scheme { get; init; }
    public int? RedirectCode { get; init; }
}

public sealed record HTTPDirectResponse
{
    public int Status { get; init; }
    public HTTPBody? Body { get; init; }
}

public sealed record HTTPBody
{
    public string? String { get; init; }
    /// <summary>Base64 in YAML.</summary>
    public string? Bytes { get; init; }
}

public sealed record Delegate
{
    public string Name { get; init; } = "";
    public string? Namespace { get; init; }
}

public sealed record HTTPRewrite
{
    public string? Uri { get; init; }
    public string? Authority { get; init; }
    public RegexRewrite? UriRegexRewrite { get; init; }
}

public sealed record RegexRewrite
{
    public string Match { get; init; } = "";
    public string Rewrite { get; init; } = "";
}

public sealed record HTTPRetry
{
    public int Attempts { get; init; }
    public TimeSpan? PerTryTimeout { get; init; }
    public string? RetryOn { get; init; }
    public bool? RetryRemoteLocalities { get; init; }
}

public sealed record HTTPFaultInjection
{
    public FaultDelay? Delay { get; init; }
    public FaultAbort? Abort { get; init; }
}

public sealed record FaultDelay
{
    public TimeSpan? FixedDelay { get; init; }
    public TimeSpan? ExponentialDelay { get; init; }
    public Percent? Percentage { get; init; }
    /// <summary>Deprecated integer percentage.</summary>
    public int? Percent { get; init; }
}

public sealed record FaultAbort
{
    public int? HttpStatus { get; init; }
    public string? GrpcStatus { get; init; }
    public string? Http2Error { get; init; }
    public Percent? Percentage { get; init; }
    /// <summary>Deprecated integer percentage (Istio's own bookinfo abort sample still uses it).</summary>
    public int? Percent { get; init; }
}

public sealed record Percent
{
    public double Value { get; init; }
}

public sealed record HTTPMirrorPolicy
{
    public Destination Destination { get; init; } = new();
    public Percent? Percentage { get; init; }
}

public sealed record CorsPolicy
{
    public IReadOnlyList<StringMatch> AllowOrigins { get; init; } = [];
    /// <summary>Deprecated in Istio in favour of allowOrigins.</summary>
    public IReadOnlyList<string> AllowOrigin { get; init; } = [];
    public IReadOnlyList<string> AllowMethods { get; init; } = [];
    public IReadOnlyList<string> AllowHeaders { get; init; } = [];
    public IReadOnlyList<string> ExposeHeaders { get; init; } = [];
    public TimeSpan? MaxAge { get; init; }
    public bool? AllowCredentials { get; init; }
    public string? UnmatchedPreflights { get; init; }
}

public sealed record TLSRoute
{
    public IReadOnlyList<TLSMatchAttributes> Match { get; init; } = [];
    public IReadOnlyList<RouteDestination> Route { get; init; } = [];
}

public sealed record TLSMatchAttributes
{
    public IReadOnlyList<string> SniHosts { get; init; } = [];
    public IReadOnlyList<string> DestinationSubnets { get; init; } = [];
    public int? Port { get; init; }
    public IReadOnlyDictionary<string, string> SourceLabels { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> Gateways { get; init; } = [];
    public string? SourceNamespace { get; init; }
}

public sealed record TCPRoute
{
    public IReadOnlyList<L4MatchAttributes> Match { get; init; } = [];
    public IReadOnlyList<RouteDestination> Route { get; init; } = [];
}

public sealed record L4MatchAttributes
{
    public IReadOnlyList<string> DestinationSubnets { get; init; } = [];
    public int? Port { get; init; }
    public IReadOnlyDictionary<string, string> SourceLabels { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> Gateways { get; init; } = [];
    public string? SourceNamespace { get; init; }
}
