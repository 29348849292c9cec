using System.Collections.Concurrent;
using System.Reflection;
using Bowline.Api.Resources;

namespace Bowline.Api.Yaml;

/// <summary>How a model record maps to YAML: its settable properties by YAML field name. Computed once per type.</summary>
internal sealed class RecordShape
{
    private static readonly ConcurrentDictionary<Type, RecordShape> Cache = new();

    private RecordShape(Type type)
    {
        Type = type;
        Lenient = type.GetCustomAttribute<LenientFieldsAttribute>() is not null;
        Fields = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is { IsPublic: true })
            .ToDictionary(p => p.GetCustomAttribute<YamlFieldAttribute>()?.Name ?? CamelCase(p.Name), StringComparer.Ordinal);
    }

    public Type Type { get; }

    /// <summary>Unknown fields are ignored rather than refused (Kubernetes kinds Bowline models only in part).</summary>
    public bool Lenient { get; }

    public IReadOnlyDictionary<string, PropertyInfo> Fields { get; }

    public static RecordShape Of(Type type) => Cache.GetOrAdd(type, static t => new RecordShape(t));

    private static string CamelCase(string name) => char.ToLowerInvariant(name[0]) + name[1..];
}
