namespace Bowline.Proxy.Pipeline;

/// <summary>Envoy's response flags, as access logs and metrics name them (see docs/contracts.md).</summary>
[Flags]
internal enum ResponseFlags
{
    None = 0,
    /// <summary>NR: no virtual host or route matched (404).</summary>
    NoRoute = 1,
    /// <summary>UH: the cluster has no endpoints (503).</summary>
    NoHealthyUpstream = 2,
    /// <summary>UF: connecting upstream failed (503).</summary>
    UpstreamConnectionFailure = 4,
    /// <summary>UT: the route timeout fired (504).</summary>
    UpstreamRequestTimeout = 8,
    /// <summary>URX: retries ran out.</summary>
    UpstreamRetryLimitExceeded = 16,
    /// <summary>DC: the client went away.</summary>
    DownstreamConnectionTermination = 32,
    /// <summary>UC: the upstream connection closed or reset.</summary>
    UpstreamConnectionTermination = 64,
    /// <summary>DI: the route's fault policy delayed the request.</summary>
    DelayInjected = 128,
    /// <summary>FI: the route's fault policy aborted the request.</summary>
    FaultInjected = 256,
    /// <summary>UO: the cluster's circuit breakers refused the request (503).</summary>
    UpstreamOverflow = 512,
    /// <summary>RL: the local rate limit refused the request (429).</summary>
    RateLimited = 1024,
    /// <summary>DPE: the downstream request broke HTTP (a malformed body, an unsupported transfer coding).</summary>
    DownstreamProtocolError = 2048,
}

internal static class ResponseFlagsFormat
{
    /// <summary>Envoy's short form: "-" for none, else codes joined with ','.</summary>
    public static string ToShortString(this ResponseFlags flags)
    {
        if (flags == ResponseFlags.None)
        {
            return "-";
        }

        var codes = new List<string>(2);
        if ((flags & ResponseFlags.NoRoute) != 0) codes.Add("NR");
        if ((flags & ResponseFlags.NoHealthyUpstream) != 0) codes.Add("UH");
        if ((flags & ResponseFlags.UpstreamConnectionFailure) != 0) codes.Add("UF");
        if ((flags & ResponseFlags.UpstreamRequestTimeout) != 0) codes.Add("UT");
        if ((flags & ResponseFlags.UpstreamRetryLimitExceeded) != 0) codes.Add("URX");
        if ((flags & ResponseFlags.DownstreamConnectionTermination) != 0) codes.Add("DC");
        if ((flags & ResponseFlags.UpstreamConnectionTermination) != 0) codes.Add("UC");
        if ((flags & ResponseFlags.DelayInjected) != 0) codes.Add("DI");
        if ((flags & ResponseFlags.FaultInjected) != 0) codes.Add("FI");
        if ((flags & ResponseFlags.UpstreamOverflow) != 0) codes.Add("UO");
        if ((flags & ResponseFlags.RateLimited) != 0) codes.Add("RL");
        if ((flags & ResponseFlags.DownstreamProtocolError) != 0) codes.Add("DPE");
        return string.Join(',', codes);
    }
}
