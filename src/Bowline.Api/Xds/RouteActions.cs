using System.Collections.Immutable;

namespace Bowline.Api.Xds;

/// <summary>How a redirect picks the Location's port when <see cref="RedirectAction.Port"/> is not set.</summary>
public enum RedirectPortMode
{
    /// <summary>Keep the request's port, except that changing the scheme drops it (Envoy's scheme redirect).</summary>
    Keep,
    /// <summary>No port in Location: the new scheme's default (Istio derivePort FROM_PROTOCOL_DEFAULT).</summary>
    ProtocolDefault,
    /// <summary>The port the request arrived on (Istio derivePort FROM_REQUEST_PORT).</summary>
    RequestPort,
}

/// <summary>Envoy's redirect action: Location is the request's URL with the set parts replaced.</summary>
public sealed record RedirectAction
{
    /// <summary>Replaces the path; the request's query is kept unless this has one of its own.</summary>
    public string? Uri { get; init; }
    /// <summary>Replaces the host (and any port in it).</summary>
    public string? Authority { get; init; }
    public int? Port { get; init; }
    public RedirectPortMode PortMode { get; init; }
    /// <summary>"http" or "https"; null keeps the request's.</summary>
    public string? Scheme { get; init; }
    /// <summary>301, 302, 303, 307 or 308.</summary>
    public int Code { get; init; } = 301;
}

/// <summary>A fixed answer. At most one of <see cref="Body"/> (text) and <see cref="BodyBase64"/> (bytes) is set.</summary>
public sealed record DirectResponseAction
{
    /// <summary>200–599.</summary>
    public required int Status { get; init; }
    public string? Body { get; init; }
    public string? BodyBase64 { get; init; }
}

/// <summary>At most one of <see cref="Uri"/> and <see cref="UriRegex"/>.</summary>
public sealed record RewritePolicy
{
    /// <summary>Replaces the matched prefix when the route matched on a uri prefix, else the whole path (query kept).</summary>
    public string? Uri { get; init; }
    /// <summary>Replaces the Host / :authority sent upstream.</summary>
    public string? Authority { get; init; }
    public RegexRewrite? UriRegex { get; init; }
}

/// <summary>Every match of <see cref="Match"/> (RE2 syntax) in the path is replaced by <see cref="Rewrite"/> (\1 for groups).</summary>
public sealed record RegexRewrite
{
    public required string Match { get; init; }
    public required string Rewrite { get; init; }
}

public sealed record HeaderPolicy
{
    public HeaderOperations? Request { get; init; }
    /// <summary>Applied to upstream responses only, not to the proxy's own replies.</summary>
    public HeaderOperations? Response { get; init; }
}

/// <summary>Applied in Envoy's order: remove, then set (overwrite), then add (append). Names are lower case.</summary>
public sealed record HeaderOperations
{
    public ImmutableDictionary<string, string> Set { get; init; } = ImmutableDictionary<string, string>.Empty;
    public ImmutableDictionary<string, string> Add { get; init; } = ImmutableDictionary<string, string>.Empty;
    public ImmutableArray<string> Remove { get; init; } = [];
}

public sealed record CorsPolicy
{
    /// <summary>An Origin matching any of these gets CORS headers; none matching gets none (the request still passes).</summary>
    public ImmutableArray<StringMatch> AllowOrigins { get; init; } = [];
    public ImmutableArray<string> AllowMethods { get; init; } = [];
    public ImmutableArray<string> AllowHeaders { get; init; } = [];
    public ImmutableArray<string> ExposeHeaders { get; init; } = [];
    public TimeSpan? MaxAge { get; init; }
    public bool AllowCredentials { get; init; }
}
