using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Bowline.Api.Yaml;

// A minimal YAML node tree with 1-based lines. YamlDotNet's own representation model (YamlStream) throws on the first
// duplicate mapping key and so would stop at one error; this tree keeps duplicates so the binder can report them all.

internal abstract record YNode(int Line);

internal sealed record YScalar(int Line, string Value, bool Quoted) : YNode(Line)
{
    /// <summary>YAML's null: a plain empty, "~" or "null" scalar.</summary>
    public bool IsNull => !Quoted && Value is "" or "~" or "null" or "Null" or "NULL";

    /// <summary>A literal block ("|"): its text starts on the next line and keeps the source's line breaks.</summary>
    public bool Literal { get; init; }
}

internal sealed record YSequence(int Line, IReadOnlyList<YNode> Items) : YNode(Line);

internal sealed record YMapping(int Line, IReadOnlyList<KeyValuePair<YScalar, YNode>> Entries) : YNode(Line);

/// <summary>One document of a stream: its root (null when empty), and its span in the source text.</summary>
internal sealed record YDocument(YNode? Root, int StartIndex, int EndIndex);

internal static class YamlTree
{
    /// <summary>Reads every document; a syntax error ends the stream (the parser cannot resync) and is reported with its line.</summary>
    public static (IReadOnlyList<YDocument> Documents, YamlException? Error) Load(string content)
    {
        var documents = new List<YDocument>();
        try
        {
            var parser = new Parser(new StringReader(content));
            parser.Consume<StreamStart>();
            while (parser.TryConsume<DocumentStart>(out var start))
            {
                var anchors = new Dictionary<string, YNode>(StringComparer.Ordinal);
                var root = parser.Accept<DocumentEnd>(out _) ? null : ReadNode(parser, anchors);
                var end = parser.Consume<DocumentEnd>();
                documents.Add(new YDocument(root, (int)start.Start.Index, (int)end.End.Index));
            }
            parser.Consume<StreamEnd>();
            return (documents, null);
        }
        catch (YamlException e)
        {
            return (documents, e);
        }
    }

    private static YNode ReadNode(IParser parser, Dictionary<string, YNode> anchors)
    {
        if (parser.TryConsume<AnchorAlias>(out var alias))
        {
            return anchors.TryGetValue(alias.Value.Value, out var target)
                ? target
                : throw new YamlException(alias.Start, alias.End, $"unknown alias \"*{alias.Value.Value}\"");
        }
        YNode node;
        AnchorName anchor;
        if (parser.TryConsume<Scalar>(out var scalar))
        {
            node = new YScalar(Line(scalar.Start), scalar.Value, scalar.Style is not ScalarStyle.Plain) { Literal = scalar.Style is ScalarStyle.Literal };
            anchor = scalar.Anchor;
        }
        else if (parser.TryConsume<SequenceStart>(out var sequenceStart))
        {
            var items = new List<YNode>();
            while (!parser.TryConsume<SequenceEnd>(out _))
            {
                items.Add(ReadNode(parser, anchors));
            }
            node = new YSequence(Line(sequenceStart.Start), items);
            anchor = sequenceStart.Anchor;
        }
        else
        {
            var mappingStart = parser.Consume<MappingStart>();
            var entries = new List<KeyValuePair<YScalar, YNode>>();
            while (!parser.TryConsume<MappingEnd>(out _))
            {
                var key = ReadNode(parser, anchors);
                var value = ReadNode(parser, anchors);
                // Complex (non-scalar) keys never occur in Kubernetes manifests; refuse them like a syntax error.
                entries.Add(new(key as YScalar ?? throw new YamlException(mappingStart.Start, mappingStart.End, "mapping keys must be plain strings"), value));
            }
            node = new YMapping(Line(mappingStart.Start), entries);
            anchor = mappingStart.Anchor;
        }
        if (!anchor.IsEmpty)
        {
            anchors[anchor.Value] = node;
        }
        return node;
    }

    internal static int Line(Mark mark) => (int)mark.Line;
}
