using System.Net;

namespace Bowline.Proxy;

/// <summary>The command line: every option is required and takes one value.</summary>
internal sealed record ProxyArgs(string Id, string Pod, string Namespace, Uri Xds, IPEndPoint Admin)
{
    public const string Usage = "usage: Bowline.Proxy --id <pod>.<ns> --pod <pod> --namespace <ns> --xds http://host:port --admin host:port";

    /// <exception cref="FormatException">The arguments are wrong; the message says how.</exception>
    public static ProxyArgs Parse(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name is not ("--id" or "--pod" or "--namespace" or "--xds" or "--admin"))
            {
                throw new FormatException($"unknown argument '{name}'");
            }

            if (i + 1 >= args.Count)
            {
                throw new FormatException($"{name} needs a value");
            }

            values[name] = args[++i];
        }

        string Required(string name) => values.TryGetValue(name, out var v) && v.Length > 0 ? v : throw new FormatException($"{name} is required");

        if (!Uri.TryCreate(Required("--xds"), UriKind.Absolute, out var xds) || (xds.Scheme != Uri.UriSchemeHttp && xds.Scheme != Uri.UriSchemeHttps))
        {
            throw new FormatException($"--xds must be an http:// URL, got '{values["--xds"]}'");
        }

        if (!IPEndPoint.TryParse(Required("--admin"), out var admin))
        {
            throw new FormatException($"--admin must be ip:port, got '{values["--admin"]}'");
        }

        return new ProxyArgs(Required("--id"), Required("--pod"), Required("--namespace"), xds, admin);
    }
}
