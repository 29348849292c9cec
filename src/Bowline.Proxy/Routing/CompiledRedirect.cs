using System.Globalization;
using Bowline.Api.Xds;
using Bowline.Proxy.Config;

namespace Bowline.Proxy.Routing;

/// <summary>A route's redirect: the fixed parts of Location precomputed; the request supplies the rest (Envoy's newUri).</summary>
internal sealed class CompiledRedirect
{
    private readonly string? _path;
    private readonly string? _query;
    private readonly string? _authority;
    private readonly string? _scheme;
    private readonly string? _port;
    private readonly RedirectPortMode _portMode;

    private CompiledRedirect(RedirectAction action)
    {
        if (action.Uri is { } uri)
        {
            // A new path with its own query replaces the request's query too (Envoy's path_redirect).
            var q = uri.IndexOf('?', StringComparison.Ordinal);
            (_path, _query) = q < 0 ? (uri, null) : (uri[..q], uri[q..]);
        }

        _authority = action.Authority;
        _scheme = action.Scheme;
        _portMode = action.PortMode;
        _port = action.Port is { } p ? ":" + p.ToString(CultureInfo.InvariantCulture) : null;
        Code = action.Code;
    }

    public int Code { get; }

    /// <exception cref="ConfigException">Bad code, scheme or port.</exception>
    public static CompiledRedirect? Compile(RedirectAction? action, string where)
    {
        if (action is null)
        {
            return null;
        }

        if (action.Code is not (301 or 302 or 303 or 307 or 308))
        {
            throw new ConfigException($"{where}: redirect code {action.Code} is not one of 301, 302, 303, 307, 308");
        }

        if (action.Scheme is not (null or "http" or "https"))
        {
            throw new ConfigException($"{where}: redirect scheme '{action.Scheme}' is not http or https");
        }

        if (action.Port is <= 0 or > 65535)
        {
            throw new ConfigException($"{where}: redirect port {action.Port} is out of range 1-65535");
        }

        if (action.Uri is { Length: > 0 } uri && uri[0] != '/')
        {
            throw new ConfigException($"{where}: redirect uri '{uri}' must start with '/'");
        }

        return new CompiledRedirect(action);
    }

    /// <param name="target">The request's origin-form target ("/path?query").</param>
    /// <param name="authority">The request's Host.</param>
    /// <param name="listenerPort">The port the request arrived on, for FROM_REQUEST_PORT without a port in Host.</param>
    /// <param name="requestScheme">"https" when the proxy terminated the client's TLS, else "http".</param>
    public string Location(string target, string authority, int listenerPort, string requestScheme = "http")
    {
        var scheme = _scheme ?? requestScheme;
        var (requestHost, requestPort) = SplitPort(authority);
        var host = _authority ?? requestHost;
        var port = _port ?? _portMode switch
        {
            RedirectPortMode.ProtocolDefault => "",
            RedirectPortMode.RequestPort => requestPort.Length > 0 ? requestPort : ":" + listenerPort.ToString(CultureInfo.InvariantCulture),
            // Envoy keeps the request's port unless the authority is replaced, or the scheme changes and the port
            // was the old scheme's default.
            _ when _authority is not null => "",
            _ when scheme != requestScheme && requestPort == (requestScheme == "https" ? ":443" : ":80") => "",
            _ => requestPort,
        };
        if ((scheme == "http" && port == ":80") || (scheme == "https" && port == ":443"))
        {
            port = "";
        }

        var query = target.IndexOf('?', StringComparison.Ordinal);
        var path = _path ?? (query < 0 ? target : target[..query]);
        var rest = _query ?? (query < 0 ? "" : target[query..]);
        return string.Concat(scheme, "://", host, port, path, rest);
    }

    // "host:port" → ("host", ":port"); IPv6 literals keep their brackets.
    private static (string Host, string Port) SplitPort(string authority)
    {
        var colon = authority.LastIndexOf(':');
        return colon < 0 || authority.IndexOf(']', colon) >= 0 ? (authority, "") : (authority[..colon], authority[colon..]);
    }
}
