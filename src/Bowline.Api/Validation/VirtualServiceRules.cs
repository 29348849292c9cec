using Bowline.Api.Resources;

namespace Bowline.Api.Validation;

/// <summary>VirtualService checks, after Istio's pkg/config/validation (validateVirtualService and friends).</summary>
internal static class VirtualServiceRules
{
    public static void Check(VirtualServiceSpec spec, Reporter r)
    {
        Checks.NonEmpty(r, "spec.hosts", spec.Hosts, "host");
        for (var i = 0; i < spec.Hosts.Count; i++)
        {
            Checks.Required(r, $"spec.hosts[{i}]", spec.Hosts[i]);
            HostRules.Check(r, $"spec.hosts[{i}]", spec.Hosts[i]);
        }
        for (var i = 0; i < spec.Gateways.Count; i++)
        {
            Checks.Required(r, $"spec.gateways[{i}]", spec.Gateways[i]);
        }
        if (spec.Http.Count + spec.Tcp.Count + spec.Tls.Count == 0)
        {
            r.Report("spec", "at least one of http, tcp or tls routes is required");
        }
        for (var i = 0; i < spec.Http.Count; i++)
        {
            HttpRoute(spec.Http[i], $"spec.http[{i}]", r);
        }
        for (var i = 0; i < spec.Tcp.Count; i++)
        {
            var path = $"spec.tcp[{i}]";
            for (var m = 0; m < spec.Tcp[i].Match.Count; m++)
            {
                Checks.Port(r, $"{path}.match[{m}].port", spec.Tcp[i].Match[m].Port);
            }
            Routes(spec.Tcp[i].Route.Select(d => (d.Destination, d.Weight)).ToList(), $"{path}.route", r);
        }
        for (var i = 0; i < spec.Tls.Count; i++)
        {
            var path = $"spec.tls[{i}]";
            // A TLS route can only be chosen by SNI, so Istio insists on it.
            if (spec.Tls[i].Match.Count == 0)
            {
                r.Report($"{path}.match", "at least one match with sniHosts is required");
            }
            for (var m = 0; m < spec.Tls[i].Match.Count; m++)
            {
                Checks.NonEmpty(r, $"{path}.match[{m}].sniHosts", spec.Tls[i].Match[m].SniHosts, "SNI host");
                Checks.Port(r, $"{path}.match[{m}].port", spec.Tls[i].Match[m].Port);
            }
            Routes(spec.Tls[i].Route.Select(d => (d.Destination, d.Weight)).ToList(), $"{path}.route", r);
        }
    }

    private static void HttpRoute(HTTPRoute route, string path, Reporter r)
    {
        var actions = (route.Route.Count > 0 ? 1 : 0) + (route.Redirect is null ? 0 : 1) + (route.DirectResponse is null ? 0 : 1) + (route.Delegate is null ? 0 : 1);
        if (actions == 0)
        {
            r.Report(path, "one of route, redirect, directResponse or delegate is required");
        }
        else if (actions > 1)
        {
            r.Report(path, "only one of route, redirect, directResponse or delegate may be set");
        }
        for (var m = 0; m < route.Match.Count; m++)
        {
            Match(route.Match[m], $"{path}.match[{m}]", r);
        }
        if (route.Route.Count > 0)
        {
            Routes(route.Route.Select(d => (d.Destination, d.Weight)).ToList(), $"{path}.route", r);
        }
        if (route.Redirect is { } redirect)
        {
            Redirect(redirect, $"{path}.redirect", r);
        }
        if (route.DirectResponse is { } direct && direct.Status is < 200 or > 599)
        {
            r.Report($"{path}.directResponse.status", $"HTTP status {direct.Status} is out of range 200-599");
        }
        if (route.Delegate is { } delegated)
        {
            Checks.Required(r, $"{path}.delegate.name", delegated.Name);
        }
        if (route.Rewrite is { } rewrite)
        {
            Rewrite(rewrite, $"{path}.rewrite", r);
        }
        Checks.Duration(r, $"{path}.timeout", route.Timeout);
        if (route.Retries is { } retries)
        {
            Checks.NonNegative(r, $"{path}.retries.attempts", retries.Attempts);
            Checks.Duration(r, $"{path}.retries.perTryTimeout", retries.PerTryTimeout);
        }
        if (route.Fault is { } fault)
        {
            Fault(fault, $"{path}.fault", r);
        }
        if (route.Mirror is { } mirror)
        {
            Destination(mirror, $"{path}.mirror", r);
        }
        for (var i = 0; i < route.Mirrors.Count; i++)
        {
            Destination(route.Mirrors[i].Destination, $"{path}.mirrors[{i}].destination", r);
            Checks.Percentage(r, $"{path}.mirrors[{i}].percentage.value", route.Mirrors[i].Percentage?.Value);
        }
        Checks.Percentage(r, $"{path}.mirrorPercentage.value", route.MirrorPercentage?.Value);
        Checks.Percentage(r, $"{path}.mirrorPercent", route.MirrorPercent);
        if (route.CorsPolicy is { } cors)
        {
            for (var i = 0; i < cors.AllowOrigins.Count; i++)
            {
                StringMatch(cors.AllowOrigins[i], $"{path}.corsPolicy.allowOrigins[{i}]", r);
            }
            Checks.Duration(r, $"{path}.corsPolicy.maxAge", cors.MaxAge);
        }
    }

    private static void Match(HTTPMatchRequest match, string path, Reporter r)
    {
        StringMatch(match.Uri, $"{path}.uri", r);
        StringMatch(match.Scheme, $"{path}.scheme", r);
        StringMatch(match.Method, $"{path}.method", r);
        StringMatch(match.Authority, $"{path}.authority", r);
        foreach (var (field, matches) in new[] { ("headers", match.Headers), ("queryParams", match.QueryParams), ("withoutHeaders", match.WithoutHeaders) })
        {
            foreach (var (name, value) in matches)
            {
                StringMatch(value, $"{path}.{field}.{name}", r);
            }
        }
        Checks.Port(r, $"{path}.port", match.Port);
    }

    private static void StringMatch(StringMatch? match, string path, Reporter r)
    {
        if (match is null)
        {
            return;
        }
        if (new[] { match.Exact, match.Prefix, match.Regex }.Count(v => v is not null) > 1)
        {
            r.Report(path, "only one of exact, prefix or regex may be set");
        }
        if (match.Regex is { } regex && RegexRules.Problem(regex) is { } problem)
        {
            r.Report($"{path}.regex", $"invalid regex \"{regex}\": {problem}");
        }
    }

    /// <summary>Weights split traffic in percent: with several destinations they must add up to 100.</summary>
    private static void Routes(List<(Destination Destination, int? Weight)> routes, string path, Reporter r)
    {
        for (var i = 0; i < routes.Count; i++)
        {
            Destination(routes[i].Destination, $"{path}[{i}].destination", r);
            Checks.NonNegative(r, $"{path}[{i}].weight", routes[i].Weight);
        }
        var sum = routes.Sum(d => (long)(d.Weight ?? 0));
        if (routes.Count > 1 && sum != 100)
        {
            r.Report(path, $"weights sum to {sum}, must be 100");
        }
    }

    private static void Destination(Destination destination, string path, Reporter r)
    {
        Checks.Required(r, $"{path}.host", destination.Host);
        if (destination.Subset is { } subset && !NameRules.IsDns1123Label(subset))
        {
            r.Report($"{path}.subset", $"\"{subset}\" is not a valid subset name (a DNS-1123 label)");
        }
        Checks.Port(r, $"{path}.port.number", destination.Port?.Number);
    }

    private static void Redirect(HTTPRedirect redirect, string path, Reporter r)
    {
        if (redirect.Uri is null && redirect.Authority is null && redirect.Port is null && redirect.DerivePort is null && redirect.Scheme is null)
        {
            r.Report(path, "redirect must specify uri, authority, port, derivePort or scheme");
        }
        if (redirect.Port is not null && redirect.DerivePort is not null)
        {
            r.Report(path, "only one of port or derivePort may be set");
        }
        Checks.Port(r, $"{path}.port", redirect.Port);
        if (redirect.RedirectCode is { } code && code is not (301 or 302 or 303 or 307 or 308))
        {
            r.Report($"{path}.redirectCode", $"redirect code {code} is not one of 301, 302, 303, 307, 308");
        }
        if (redirect.Scheme is { } scheme && scheme is not ("http" or "https"))
        {
            r.Report($"{path}.scheme", $"scheme \"{scheme}\" is not http or https");
        }
    }

    private static void Rewrite(HTTPRewrite rewrite, string path, Reporter r)
    {
        if (rewrite.Uri is null && rewrite.Authority is null && rewrite.UriRegexRewrite is null)
        {
            r.Report(path, "rewrite must specify uri, authority or uriRegexRewrite");
        }
        if (rewrite.Uri is not null && rewrite.UriRegexRewrite is not null)
        {
            r.Report(path, "only one of uri or uriRegexRewrite may be set");
        }
        if (rewrite.UriRegexRewrite is { } regexRewrite)
        {
            Checks.Required(r, $"{path}.uriRegexRewrite.match", regexRewrite.Match);
            if (regexRewrite.Match.Length > 0 && RegexRules.Problem(regexRewrite.Match) is { } problem)
            {
                r.Report($"{path}.uriRegexRewrite.match", $"invalid regex \"{regexRewrite.Match}\": {problem}");
            }
        }
    }

    private static void Fault(HTTPFaultInjection fault, string path, Reporter r)
    {
        if (fault.Delay is null && fault.Abort is null)
        {
            r.Report(path, "fault must specify delay or abort");
        }
        if (fault.Delay is { } delay)
        {
            if (delay.FixedDelay is null && delay.ExponentialDelay is null)
            {
                r.Report($"{path}.delay", "delay must specify fixedDelay");
            }
            Checks.Duration(r, $"{path}.delay.fixedDelay", delay.FixedDelay);
            Checks.Duration(r, $"{path}.delay.exponentialDelay", delay.ExponentialDelay);
            Checks.Percentage(r, $"{path}.delay.percentage.value", delay.Percentage?.Value);
            Checks.Percentage(r, $"{path}.delay.percent", delay.Percent);
        }
        if (fault.Abort is { } abort)
        {
            if (abort.HttpStatus is null && abort.GrpcStatus is null && abort.Http2Error is null)
            {
                r.Report($"{path}.abort", "abort must specify httpStatus, grpcStatus or http2Error");
            }
            if (abort.HttpStatus is { } status && status is < 200 or > 599)
            {
                r.Report($"{path}.abort.httpStatus", $"HTTP status {status} is out of range 200-599");
            }
            if (abort.GrpcStatus is { Length: > 0 } grpc && !GrpcStatusCodes.TryGetCode(grpc, out _))
            {
                r.Report($"{path}.abort.grpcStatus", $"unknown gRPC status \"{grpc}\"");
            }
            Checks.Percentage(r, $"{path}.abort.percentage.value", abort.Percentage?.Value);
            Checks.Percentage(r, $"{path}.abort.percent", abort.Percent);
        }
    }
}
