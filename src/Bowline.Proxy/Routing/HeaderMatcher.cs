using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Bowline.Proxy.Routing;

/// <summary>One header (or query parameter) condition: present, and its value matching.</summary>
internal sealed class HeaderMatcher(string name, StringMatcher value)
{
    public string Name { get; } = name;

    public bool MatchesHeader(HttpRequest request) => Matches(request.Headers[Name]);

    public bool MatchesQuery(HttpRequest request) => Matches(request.Query[Name]);

    private bool Matches(StringValues values)
    {
        if (values.Count == 0)
        {
            return false;
        }

        // Several values are compared joined with ',' (as Envoy does); one value costs no allocation.
        return value.IsMatch(values.Count == 1 ? values[0] : values.ToString());
    }
}
