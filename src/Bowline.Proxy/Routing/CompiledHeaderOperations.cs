using Bowline.Api.Xds;
using Bowline.Proxy.Config;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Bowline.Proxy.Routing;

/// <summary>One direction's header edits, applied in Envoy's order: remove, then set (overwrite), then add (append).</summary>
internal sealed class CompiledHeaderOperations
{
    private readonly string[] _remove;
    private readonly (string Name, string Value)[] _set;
    private readonly (string Name, string Value)[] _add;

    private CompiledHeaderOperations(string[] remove, (string, string)[] set, (string, string)[] add)
    {
        _remove = remove;
        _set = set;
        _add = add;
    }

    /// <exception cref="ConfigException">An empty or pseudo-header name.</exception>
    public static CompiledHeaderOperations? Compile(HeaderOperations? ops, string where)
    {
        if (ops is null || (ops.Set.IsEmpty && ops.Add.IsEmpty && ops.Remove.IsDefaultOrEmpty))
        {
            return null;
        }

        var remove = ops.Remove.IsDefault ? [] : ops.Remove.ToArray();
        foreach (var name in remove.Concat(ops.Set.Keys).Concat(ops.Add.Keys))
        {
            if (string.IsNullOrEmpty(name) || name[0] == ':')
            {
                throw new ConfigException($"{where}: header operation on '{name}' is not allowed");
            }
        }

        return new CompiledHeaderOperations(
            remove,
            [.. ops.Set.OrderBy(h => h.Key, StringComparer.Ordinal).Select(h => (h.Key, h.Value))],
            [.. ops.Add.OrderBy(h => h.Key, StringComparer.Ordinal).Select(h => (h.Key, h.Value))]);
    }

    /// <summary>Edits a request about to go upstream; content headers live on its content, when it has one.</summary>
    public void Apply(HttpRequestMessage request)
    {
        var content = request.Content?.Headers;
        foreach (var name in _remove)
        {
            request.Headers.Remove(name);
            content?.Remove(name);
        }

        foreach (var (name, value) in _set)
        {
            request.Headers.Remove(name);
            content?.Remove(name);
            Add(request, name, value);
        }

        foreach (var (name, value) in _add)
        {
            Add(request, name, value);
        }
    }

    /// <summary>Edits the header fields of a request head about to go upstream (<see cref="Forwarding.Http1.Http1Client"/>).</summary>
    public void Apply(List<KeyValuePair<string, string>> fields)
    {
        foreach (var name in _remove)
        {
            fields.RemoveAll(f => f.Key.Equals(name, StringComparison.OrdinalIgnoreCase));
        }

        foreach (var (name, value) in _set)
        {
            fields.RemoveAll(f => f.Key.Equals(name, StringComparison.OrdinalIgnoreCase));
            fields.Add(new(name, value));
        }

        foreach (var (name, value) in _add)
        {
            fields.Add(new(name, value));
        }
    }

    /// <summary>Edits a response about to go downstream.</summary>
    public void Apply(IHeaderDictionary headers)
    {
        foreach (var name in _remove)
        {
            headers.Remove(name);
        }

        foreach (var (name, value) in _set)
        {
            headers[name] = value;
        }

        foreach (var (name, value) in _add)
        {
            headers[name] = headers.TryGetValue(name, out var existing) ? StringValues.Concat(existing, value) : new StringValues(value);
        }
    }

    private static void Add(HttpRequestMessage request, string name, string value)
    {
        if (!request.Headers.TryAddWithoutValidation(name, value))
        {
            request.Content?.Headers.TryAddWithoutValidation(name, value);
        }
    }
}
