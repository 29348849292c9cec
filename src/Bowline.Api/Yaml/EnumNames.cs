using System.Collections.Concurrent;
using System.Reflection;
using System.Text;
using Bowline.Api.Resources;

namespace Bowline.Api.Yaml;

/// <summary>Istio's UPPER_SNAKE enum names for the model's PascalCase enums: ROUND_ROBIN ⇄ RoundRobin, TLSV1_2 ⇄ Tlsv12.</summary>
internal static class EnumNames
{
    private sealed record EnumInfo(IReadOnlyDictionary<string, object> ByKey, string Listing);

    private static readonly ConcurrentDictionary<Type, EnumInfo> Cache = new();

    public static bool TryParse(Type enumType, string text, out object? value) =>
        Info(enumType).ByKey.TryGetValue(Normalize(text), out value);

    /// <summary>"ROUND_ROBIN, LEAST_REQUEST, ..." for an "expected one of" message.</summary>
    public static string Listing(Type enumType) => Info(enumType).Listing;

    /// <summary>Underscores carry no meaning when matching: the model's names are Istio's with them removed.</summary>
    private static string Normalize(string name) => name.Replace("_", "", StringComparison.Ordinal).ToUpperInvariant();

    private static EnumInfo Info(Type enumType) => Cache.GetOrAdd(enumType, static type =>
    {
        var fields = type.GetFields(BindingFlags.Public | BindingFlags.Static);
        var byKey = fields.ToDictionary(f => Normalize(f.Name), f => f.GetValue(null)!, StringComparer.Ordinal);
        var names = fields.Select(f => f.GetCustomAttribute<YamlFieldAttribute>()?.Name ?? UpperSnake(f.Name));
        return new EnumInfo(byKey, string.Join(", ", names));
    });

    private static string UpperSnake(string pascal)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < pascal.Length; i++)
        {
            if (i > 0 && char.IsUpper(pascal[i]) && !char.IsUpper(pascal[i - 1]))
            {
                builder.Append('_');
            }
            builder.Append(char.ToUpperInvariant(pascal[i]));
        }
        return builder.ToString();
    }
}
