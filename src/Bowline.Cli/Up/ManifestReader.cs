using System.Collections.Immutable;
using System.Globalization;
using Bowline.Api.Management;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Bowline.Cli.Up;

/// <summary>A Deployment as far as <c>up</c> needs it to start its replicas.</summary>
internal sealed record DeploymentManifest
{
    public required string Name { get; init; }
    public required string Namespace { get; init; }
    public int Replicas { get; init; } = 1;
    public ImmutableDictionary<string, string> Labels { get; init; } = ImmutableDictionary<string, string>.Empty;
    public string ServiceAccount { get; init; } = "default";
    /// <summary><c>bowline.io/command</c>; null when the Deployment has none (only its sidecar can run).</summary>
    public string? Command { get; init; }
    /// <summary><c>bowline.io/build</c>, run once before anything starts.</summary>
    public string? Build { get; init; }
    public ImmutableArray<DeclaredPort> Ports { get; init; } = [];
    /// <summary>The containers' literal <c>env</c> entries, in order.</summary>
    public ImmutableArray<KeyValuePair<string, string>> Env { get; init; } = [];
    /// <summary>The manifest file's folder: the app's and the build's working directory.</summary>
    public required string Folder { get; init; }
}

internal sealed record DeclaredPort(int ContainerPort, string? Name);

/// <summary>An Istio Gateway's server ports and the workload selector they are for.</summary>
/// <param name="HttpsPorts">Ports of HTTPS servers (served with TLS), for the summary's https:// addresses.</param>
internal sealed record GatewayManifest(string Name, ImmutableDictionary<string, string> Selector, ImmutableArray<int> Ports, ImmutableArray<int> HttpsPorts = default)
{
    /// <summary>Ports whose servers carry raw TCP or TLS passthrough (protocol TCP, TLS, MONGO...): not http:// URLs.</summary>
    public ImmutableArray<int> TcpPorts { get; init; } = [];
}

internal sealed record Manifests(ImmutableArray<DeploymentManifest> Deployments, ImmutableArray<GatewayManifest> Gateways)
{
    /// <summary>The Kubernetes Services the files define, as "namespace/name".</summary>
    public ImmutableHashSet<string> Services { get; init; } = [];

    /// <summary>The ConfigMaps the files define, as "namespace/name".</summary>
    public ImmutableHashSet<string> ConfigMaps { get; init; } = [];
}

/// <summary>
/// Reads only what <c>up</c> needs to start processes (Deployments and Gateways) from the YAML files, leniently:
/// validating the user's config is the control plane's job when <c>up</c> applies the same files.
/// </summary>
internal static class ManifestReader
{
    public const string CommandAnnotation = "bowline.io/command";
    public const string BuildAnnotation = "bowline.io/build";

    public static Manifests Read(IReadOnlyList<ConfigFile> files)
    {
        var deployments = ImmutableArray.CreateBuilder<DeploymentManifest>();
        var gateways = ImmutableArray.CreateBuilder<GatewayManifest>();
        var services = ImmutableHashSet.CreateBuilder<string>(StringComparer.Ordinal);
        var configMaps = ImmutableHashSet.CreateBuilder<string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var stream = new YamlStream();
            try
            {
                stream.Load(new StringReader(file.Content));
            }
            catch (YamlException e)
            {
                throw new ManifestException($"{file.Name}:{e.Start.Line}: {e.Message}");
            }
            catch (InvalidOperationException e)
            {
                // YamlDotNet's scanner throws this (without a position) on some malformed input.
                throw new ManifestException($"{file.Name}: invalid YAML ({e.Message})");
            }
            var folder = Path.GetDirectoryName(Path.GetFullPath(file.Name)) ?? Environment.CurrentDirectory;
            foreach (var document in stream.Documents)
            {
                if (document.RootNode is not YamlMappingNode root)
                {
                    continue;
                }
                var kind = Scalar(root, "kind");
                var apiVersion = Scalar(root, "apiVersion") ?? "";
                if (kind == "Deployment")
                {
                    deployments.Add(ReadDeployment(root, file.Name, folder));
                }
                else if (kind == "Gateway" && apiVersion.StartsWith("networking.istio.io/", StringComparison.Ordinal))
                {
                    gateways.Add(ReadGateway(root, file.Name));
                }
                else if (kind is "Service" or "ConfigMap" && apiVersion == "v1")
                {
                    var metadata = Map(root, "metadata");
                    (kind == "Service" ? services : configMaps).Add($"{Scalar(metadata, "namespace") ?? "default"}/{Scalar(metadata, "name")}");
                }
            }
        }
        return new Manifests(deployments.ToImmutable(), gateways.ToImmutable()) { Services = services.ToImmutable(), ConfigMaps = configMaps.ToImmutable() };
    }

    private static DeploymentManifest ReadDeployment(YamlMappingNode root, string file, string folder)
    {
        var metadata = Map(root, "metadata");
        var name = Scalar(metadata, "name") ?? throw At(file, root, "Deployment without metadata.name");
        var spec = Map(root, "spec");
        var template = Map(spec, "template");
        var templateMetadata = Map(template, "metadata");
        var podSpec = Map(template, "spec");

        // The pod template's annotations win over the Deployment's own (both are valid Kubernetes places to put them).
        var annotations = Strings(Map(metadata, "annotations")).SetItems(Strings(Map(templateMetadata, "annotations")));
        var ports = ImmutableArray.CreateBuilder<DeclaredPort>();
        var env = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
        foreach (var container in Seq(podSpec, "containers").OfType<YamlMappingNode>())
        {
            foreach (var port in Seq(container, "ports").OfType<YamlMappingNode>())
            {
                ports.Add(new DeclaredPort(Int(port, "containerPort", file) ?? throw At(file, port, "port without containerPort"), Scalar(port, "name")));
            }
            foreach (var variable in Seq(container, "env").OfType<YamlMappingNode>())
            {
                if (Scalar(variable, "name") is { } variableName)
                {
                    env.Add(new(variableName, Scalar(variable, "value") ?? ""));
                }
            }
        }
        return new DeploymentManifest
        {
            Name = name,
            Namespace = Scalar(metadata, "namespace") ?? "default",
            Replicas = Int(spec, "replicas", file) ?? 1,
            Labels = Strings(Map(templateMetadata, "labels")),
            ServiceAccount = Scalar(podSpec, "serviceAccountName") ?? Scalar(podSpec, "serviceAccount") ?? "default",
            Command = annotations.GetValueOrDefault(CommandAnnotation),
            Build = annotations.GetValueOrDefault(BuildAnnotation),
            Ports = ports.ToImmutable(),
            Env = env.ToImmutable(),
            Folder = folder,
        };
    }

    private static GatewayManifest ReadGateway(YamlMappingNode root, string file)
    {
        var spec = Map(root, "spec");
        var ports = Seq(spec, "servers").OfType<YamlMappingNode>()
            .Select(server => Int(Map(server, "port"), "number", file))
            .OfType<int>()
            .Distinct()
            .ToImmutableArray();
        var tcpPorts = Seq(spec, "servers").OfType<YamlMappingNode>()
            .Where(server => Scalar(Map(server, "port"), "protocol")?.ToUpperInvariant() is "TCP" or "TLS" or "MONGO" or "REDIS" or "MYSQL")
            .Select(server => Int(Map(server, "port"), "number", file))
            .OfType<int>()
            .Distinct()
            .ToImmutableArray();
        var httpsPorts = Seq(spec, "servers").OfType<YamlMappingNode>()
            .Where(server => string.Equals(Scalar(Map(server, "port"), "protocol"), "HTTPS", StringComparison.OrdinalIgnoreCase))
            .Select(server => Int(Map(server, "port"), "number", file))
            .OfType<int>()
            .ToImmutableArray();
        return new GatewayManifest(Scalar(Map(root, "metadata"), "name") ?? "", Strings(Map(spec, "selector")), ports, httpsPorts) { TcpPorts = tcpPorts };
    }

    private static YamlNode? Child(YamlMappingNode? map, string key) =>
        map is not null && map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

    private static YamlMappingNode? Map(YamlMappingNode? map, string key) => Child(map, key) as YamlMappingNode;

    private static IEnumerable<YamlNode> Seq(YamlMappingNode? map, string key) =>
        Child(map, key) is YamlSequenceNode seq ? seq.Children : [];

    private static string? Scalar(YamlMappingNode? map, string key) =>
        Child(map, key) is YamlScalarNode { Value: { } value } ? value : null;

    private static int? Int(YamlMappingNode? map, string key, string file)
    {
        if (Scalar(map, key) is not { } text)
        {
            return null;
        }
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw At(file, Child(map, key)!, $"{key}: '{text}' is not a non-negative integer");
    }

    private static ImmutableDictionary<string, string> Strings(YamlMappingNode? map) =>
        map is null
            ? ImmutableDictionary<string, string>.Empty
            : map.Children
                .Where(kv => kv.Key is YamlScalarNode { Value: not null } && kv.Value is YamlScalarNode)
                .ToImmutableDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => ((YamlScalarNode)kv.Value).Value ?? "");

    private static ManifestException At(string file, YamlNode node, string message) =>
        new($"{file}:{node.Start.Line}: {message}");
}

internal sealed class ManifestException(string message) : Exception(message);
