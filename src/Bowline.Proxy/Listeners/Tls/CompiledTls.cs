using System.Collections.Frozen;
using System.Net.Security;
using System.Security.Authentication;

namespace Bowline.Proxy.Listeners.Tls;

/// <summary>
/// A listener's TLS contexts, ready per handshake: Envoy's filter-chain choice by SNI — an exact server name first,
/// then the longest matching "*.suffix" wildcard, then a context for "*" (which also takes clients sending no SNI).
/// Immutable; a push compiles a new one and new handshakes use it while open connections keep theirs.
/// </summary>
internal sealed class CompiledTls(
    FrozenDictionary<string, SslServerAuthenticationOptions> exact,
    IReadOnlyList<(string Suffix, SslServerAuthenticationOptions Options)> wildcards,
    SslServerAuthenticationOptions? fallback)
{
    /// <summary>The options for a client hello naming <paramref name="serverName"/> (null or empty: no SNI).</summary>
    /// <exception cref="AuthenticationException">No context serves that name; the handshake fails.</exception>
    public SslServerAuthenticationOptions Select(string? serverName)
    {
        if (!string.IsNullOrEmpty(serverName))
        {
            if (exact.TryGetValue(serverName, out var options))
            {
                return options;
            }

            foreach (var (suffix, wildcard) in wildcards)
            {
                if (serverName.Length > suffix.Length && serverName.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
                {
                    return wildcard;
                }
            }
        }

        return fallback ?? throw new AuthenticationException(
            string.IsNullOrEmpty(serverName) ? "no TLS server for a client without SNI" : $"no TLS server for SNI \"{serverName}\"");
    }
}
