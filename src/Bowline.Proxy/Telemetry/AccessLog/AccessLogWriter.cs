using System.Text;
using System.Threading.Channels;

namespace Bowline.Proxy.Telemetry.AccessLog;

/// <summary>
/// One log file (or standard output): requests hand their line to a bounded queue and go on; one background task
/// drains it through a buffered writer, flushing whenever the queue runs dry. A full queue drops the line and counts it
/// — a slow disk must never slow the requests.
/// </summary>
internal sealed class AccessLogWriter : IAsyncDisposable
{
    public const int Capacity = 8192;
    private const string Stdout = "/dev/stdout";

    private readonly Channel<string> _queue = Channel.CreateBounded<string>(new BoundedChannelOptions(Capacity)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private readonly Task _drain;
    private long _written;
    private long _dropped;

    public AccessLogWriter(string path)
    {
        Path = path;
        _drain = Task.Run(() => DrainAsync(path));
    }

    public string Path { get; }
    public long Written => Interlocked.Read(ref _written);
    public long Dropped => Interlocked.Read(ref _dropped);

    public void Enqueue(string line)
    {
        if (!_queue.Writer.TryWrite(line))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    private async Task DrainAsync(string path)
    {
        await using var stream = path == Stdout
            ? Console.OpenStandardOutput()
            : new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1, useAsync: false);
        // A batch is encoded whole, then written with one call: on a file several proxies share (they share this
        // machine's file system, unlike pods), each batch lands at the end as it is then.
        var batch = new MemoryStream(64 * 1024);
        await using var writer = new StreamWriter(batch, new UTF8Encoding(false), 64 * 1024, leaveOpen: true);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync())
        {
            var lines = 0;
            while (batch.Length < 256 * 1024 && reader.TryRead(out var line))
            {
                writer.Write(line);
                lines++;
            }

            await writer.FlushAsync();
            if (stream.CanSeek)
            {
                stream.Seek(0, SeekOrigin.End);
            }

            stream.Write(batch.GetBuffer(), 0, (int)batch.Length);
            stream.Flush();
            batch.SetLength(0);
            Interlocked.Add(ref _written, lines);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        try
        {
            await _drain;
        }
        catch (IOException)
        {
            // The file went away (disk full, deleted folder): nothing more to write anyway.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
