using System.Collections.Concurrent;

namespace Bowline.Proxy.Telemetry.Metrics;

/// <summary>
/// A rendered run of labels (<c>source_workload="reviews-v1",...,</c>, trailing comma included), interned by its text.
/// Series are keyed by these objects' identity: two configs that describe the same workload get the same object, so a
/// push neither splits a series nor leaves a duplicate behind, and the request path compares references instead of
/// building strings. Interning is global to the process because it is a pure function of the text; the series maps
/// themselves belong to each <see cref="ProxyMetrics"/>.
/// </summary>
internal sealed class LabelPart
{
    private static readonly ConcurrentDictionary<string, LabelPart> Interned = new(StringComparer.Ordinal);

    private LabelPart(string text) => Text = text;

    public string Text { get; }

    public static LabelPart Intern(string text) => Interned.GetOrAdd(text, static t => new LabelPart(t));

    public override string ToString() => Text;
}
