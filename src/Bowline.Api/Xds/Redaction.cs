namespace Bowline.Api.Xds;

/// <summary>What debugging output (proxy-config, the admin /config_dump) shows instead of private keys.</summary>
public static class Redaction
{
    public const string Placeholder = "[redacted]";

    /// <summary><paramref name="config"/> with every private key replaced; the same instance when it has none.</summary>
    public static ProxyConfig WithoutSecrets(ProxyConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (!config.Listeners.Any(l => l.Tls is { } tls && tls.Contexts.Any(c => c.PrivateKey is not null)))
        {
            return config;
        }

        return config with
        {
            Listeners = [.. config.Listeners.Select(l => l.Tls is null ? l : l with
            {
                Tls = l.Tls with
                {
                    Contexts = [.. l.Tls.Contexts.Select(c => c.PrivateKey is null ? c : c with { PrivateKey = Placeholder })],
                },
            })],
        };
    }
}
