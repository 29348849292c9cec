namespace Bowline.Cli.Status;

/// <summary>Left-aligned plain-text columns separated by at least three spaces (istioctl/kubectl style).</summary>
internal sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [headers];

    public void Add(params string[] cells)
    {
        if (cells.Length != headers.Length)
        {
            throw new ArgumentException($"expected {headers.Length} cells, got {cells.Length}", nameof(cells));
        }
        _rows.Add(cells);
    }

    public void WriteTo(TextWriter writer)
    {
        var widths = Enumerable.Range(0, headers.Length).Select(c => _rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in _rows)
        {
            var cells = row.Select((cell, c) => c == row.Length - 1 ? cell : cell.PadRight(widths[c] + 3));
            writer.WriteLine(string.Concat(cells));
        }
    }
}
