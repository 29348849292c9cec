namespace Bowline.ControlPlane.Generation;

internal static class Labels
{
    /// <summary>Kubernetes selector semantics: every selector pair is present in the labels (empty selects all).</summary>
    public static bool Contains(IReadOnlyDictionary<string, string> labels, IReadOnlyDictionary<string, string> selector) =>
        selector.All(kv => labels.TryGetValue(kv.Key, out var v) && v == kv.Value);
}
