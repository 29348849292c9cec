namespace Bowline.Cli.Up;

internal static class LogTail
{
    public static IReadOnlyList<string> Read(string path, int count)
    {
        try
        {
            // ReadWrite sharing: the child still has the file open for writing.
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            var lines = new Queue<string>(count + 1);
            while (reader.ReadLine() is { } line)
            {
                lines.Enqueue(line);
                if (lines.Count > count)
                {
                    lines.Dequeue();
                }
            }
            return [.. lines];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
