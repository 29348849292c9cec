using System.Globalization;
using Bowline.Api.Xds;
using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.LoadBalancing;

/// <summary>
/// Where a request's consistent-hash key comes from (header, cookie, query parameter or source IP) and its hash.
/// A missing cookie with a TTL gets one generated as Envoy does: hex(xxHash64(remote + local address)), so requests of
/// one connection agree, set on the upstream response.
/// </summary>
internal sealed class HashPolicy
{
    private readonly string? _header;
    private readonly string? _query;
    private readonly bool _sourceIp;
    private readonly string? _cookie;
    private readonly string _cookieSuffix = "";
    private readonly bool _generateCookie;

    public HashPolicy(ConsistentHash hash)
    {
        _header = hash.HttpHeaderName;
        _query = hash.HttpQueryParameterName;
        _sourceIp = hash.UseSourceIp;
        if (hash.HttpCookie is { } cookie)
        {
            _cookie = cookie.Name;
            if (cookie.Ttl is { } ttl)
            {
                _generateCookie = true;
                // Envoy's Set-Cookie: name="value"; Max-Age=<s>; Path=<path>; HttpOnly — no Max-Age for a zero TTL (session cookie).
                var maxAge = ttl > TimeSpan.Zero ? string.Create(CultureInfo.InvariantCulture, $"; Max-Age={(long)ttl.TotalSeconds}") : "";
                var path = string.IsNullOrEmpty(cookie.Path) ? "" : $"; Path={cookie.Path}";
                _cookieSuffix = $"\"{maxAge}{path}; HttpOnly";
            }
        }
    }

    /// <summary>Whether the key is the client's IP (the only key a TCP connection has).</summary>
    public bool UsesSourceIp => _sourceIp;

    /// <summary>The request's hash; null when it has no key (the cluster then picks at random, as Envoy does).</summary>
    /// <param name="setCookie">A Set-Cookie value to add to the upstream response, when one was generated.</param>
    public ulong? Compute(HttpContext context, out string? setCookie)
    {
        setCookie = null;
        var request = context.Request;
        if (_header is not null)
        {
            var values = request.Headers[_header];
            return values.Count == 0 ? null : XxHash64.Hash(values[0]);
        }

        if (_query is not null)
        {
            var values = request.Query[_query];
            return values.Count == 0 ? null : XxHash64.Hash(values[0]);
        }

        if (_sourceIp)
        {
            var ip = context.Connection.RemoteIpAddress;
            Span<char> text = stackalloc char[64];
            return ip is not null && ip.TryFormat(text, out var written) ? XxHash64.Hash(text[..written]) : null;
        }

        if (_cookie is not null)
        {
            if (request.Cookies.TryGetValue(_cookie, out var value) && value.Length > 0)
            {
                return XxHash64.Hash(value.AsSpan().Trim('"'));
            }

            if (_generateCookie)
            {
                var generated = GeneratedValue(context.Connection);
                setCookie = $"{_cookie}=\"{generated}{_cookieSuffix}";
                return XxHash64.Hash(generated);
            }
        }

        return null;
    }

    /// <summary>Envoy's generated cookie value: 16 hex digits of xxHash64(remote address + local address).</summary>
    internal static string GeneratedValue(ConnectionInfo connection)
    {
        var addresses = $"{connection.RemoteIpAddress}:{connection.RemotePort}{connection.LocalIpAddress}:{connection.LocalPort}";
        return XxHash64.Hash(addresses).ToString("x16", CultureInfo.InvariantCulture);
    }
}
