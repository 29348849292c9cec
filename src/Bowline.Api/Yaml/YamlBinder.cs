using System.Collections;
using System.Globalization;
using System.Text.RegularExpressions;
using Bowline.Api.Resources;

namespace Bowline.Api.Yaml;

/// <summary>
/// Binds a YAML node tree onto the model's records by reflection: init-only properties named in camelCase, scalars,
/// IReadOnlyList, IReadOnlyDictionary&lt;string, T&gt;, nested records. Every problem becomes a diagnostic and binding
/// goes on, so one pass reports all of a document's errors. Every bound path's line is recorded for later checks.
/// </summary>
internal sealed partial class YamlBinder(string file, List<Diagnostic> diagnostics, SourceMap map)
{
    /// <summary>Returned when a node could not be bound: the property keeps its default.</summary>
    private static readonly object Failed = new();

    public object? BindRoot(Type type, YMapping root, IReadOnlySet<string> ignoredFields) =>
        BindRecord(type, root, "", ignoredFields);

    public object? Bind(Type type, YNode node, string path)
    {
        if (node is YScalar { IsNull: true })
        {
            return Failed;
        }
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying == typeof(string) || underlying.IsPrimitive || underlying.IsEnum || underlying == typeof(TimeSpan) || underlying == typeof(IntOrString))
        {
            return node is YScalar scalar ? BindScalar(underlying, scalar, path) : Error(node, path, $"expected {Describe(underlying)}, got {Describe(node)}");
        }
        if (underlying.IsGenericType && underlying.GetGenericTypeDefinition() == typeof(IReadOnlyList<>))
        {
            return node is YSequence sequence ? BindList(underlying.GetGenericArguments()[0], sequence, path) : Error(node, path, $"expected a list, got {Describe(node)}");
        }
        if (underlying.IsGenericType && underlying.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>))
        {
            return node is YMapping mapping ? BindDictionary(underlying.GetGenericArguments()[1], mapping, path) : Error(node, path, $"expected a mapping, got {Describe(node)}");
        }
        return node is YMapping record ? BindRecord(underlying, record, path, null) : Error(node, path, $"expected a mapping, got {Describe(node)}");
    }

    private object? BindRecord(Type type, YMapping mapping, string path, IReadOnlySet<string>? ignoredFields)
    {
        var shape = RecordShape.Of(type);
        var instance = Activator.CreateInstance(type)!;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in mapping.Entries)
        {
            if (!seen.Add(key.Value))
            {
                Error(key, path, $"duplicate field \"{key.Value}\"");
                continue;
            }
            if (!shape.Fields.TryGetValue(key.Value, out var property))
            {
                if (!shape.Lenient && ignoredFields?.Contains(key.Value) != true)
                {
                    Error(key, path, $"unknown field \"{key.Value}\"");
                }
                continue;
            }
            var fieldPath = Join(path, key.Value);
            // A field's line is its key's: "spec.http[0].route: ..." points at "route:", not at its first item.
            map.Record(fieldPath, key.Line);
            var bound = Bind(property.PropertyType, value, fieldPath);
            if (bound != Failed)
            {
                property.SetValue(instance, bound);
            }
        }
        return instance;
    }

    private object BindList(Type itemType, YSequence sequence, string path)
    {
        var list = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(itemType))!;
        for (var i = 0; i < sequence.Items.Count; i++)
        {
            var itemPath = $"{path}[{i}]";
            map.Record(itemPath, sequence.Items[i].Line);
            var bound = Bind(itemType, sequence.Items[i], itemPath);
            if (bound != Failed)
            {
                list.Add(bound);
            }
            else if (sequence.Items[i] is YScalar { IsNull: true })
            {
                Error(sequence.Items[i], itemPath, "expected a value, got null");
            }
        }
        return list;
    }

    private object BindDictionary(Type valueType, YMapping mapping, string path)
    {
        var dictionary = (IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(typeof(string), valueType), StringComparer.Ordinal)!;
        foreach (var (key, value) in mapping.Entries)
        {
            if (dictionary.Contains(key.Value))
            {
                Error(key, path, $"duplicate key \"{key.Value}\"");
                continue;
            }
            var entryPath = SimpleKey().IsMatch(key.Value) ? Join(path, key.Value) : $"{path}[\"{key.Value}\"]";
            map.Record(entryPath, key.Line);
            var bound = Bind(valueType, value, entryPath);
            if (bound != Failed)
            {
                dictionary[key.Value] = bound;
            }
            else if (value is YScalar { IsNull: true })
            {
                // A null string value reads as "" (a label "app:" is the empty label); other kinds need a value.
                if (valueType == typeof(string))
                {
                    dictionary[key.Value] = "";
                }
                else
                {
                    Error(value, entryPath, "expected a value, got null");
                }
            }
        }
        return dictionary;
    }

    private object? BindScalar(Type type, YScalar scalar, string path)
    {
        var text = scalar.Value;
        if (type == typeof(string))
        {
            return text;
        }
        if (type == typeof(int))
        {
            return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i) ? i : Error(scalar, path, $"expected an integer, got {Quote(text)}");
        }
        if (type == typeof(long))
        {
            return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) ? l : Error(scalar, path, $"expected an integer, got {Quote(text)}");
        }
        if (type == typeof(double))
        {
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) ? d : Error(scalar, path, $"expected a number, got {Quote(text)}");
        }
        if (type == typeof(bool))
        {
            return bool.TryParse(text, out var b) ? b : Error(scalar, path, $"expected true or false, got {Quote(text)}");
        }
        if (type == typeof(TimeSpan))
        {
            return Durations.TryParse(text, out var t) ? t : Error(scalar, path, $"expected a duration like \"1.5s\" or \"100ms\", got {Quote(text)}");
        }
        if (type == typeof(IntOrString))
        {
            // Quoted digits stay a string, as in Kubernetes: targetPort: "9080" names a port called "9080".
            return !scalar.Quoted && int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)
                ? new IntOrString { Int = n }
                : new IntOrString { String = text };
        }
        if (type.IsEnum)
        {
            return EnumNames.TryParse(type, text, out var e) ? e : Error(scalar, path, $"expected one of {EnumNames.Listing(type)}, got {Quote(text)}");
        }
        return Error(scalar, path, $"unsupported field type {type.Name}");
    }

    private object Error(YNode node, string path, string message)
    {
        diagnostics.Add(new Diagnostic(DiagnosticSeverity.Error, file, node.Line, path, message));
        return Failed;
    }

    internal static string Join(string path, string field) => path.Length == 0 ? field : $"{path}.{field}";

    private static string Quote(string text) => $"\"{text}\"";

    private static string Describe(Type type) =>
        type == typeof(int) || type == typeof(long) ? "an integer"
        : type == typeof(double) ? "a number"
        : type == typeof(bool) ? "true or false"
        : type == typeof(TimeSpan) ? "a duration"
        : type.IsEnum ? $"one of {EnumNames.Listing(type)}"
        : type == typeof(IntOrString) ? "an integer or a string"
        : "a string";

    private static string Describe(YNode node) => node switch
    {
        YScalar scalar => Quote(scalar.Value),
        YSequence => "a list",
        _ => "a mapping",
    };

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex SimpleKey();
}
