using System.Threading.Channels;

namespace Bowline.ControlPlane.Push;

/// <summary>
/// Coalesces bursts of changes into one action: it runs once <paramref name="quiet"/> has passed with no further
/// signal, but never later than <paramref name="max"/> after the first signal of the burst (so a steady stream of
/// changes still gets pushed). Signals arriving while the action runs cause one more round afterwards.
/// </summary>
internal sealed class Debouncer(TimeProvider time, TimeSpan quiet, TimeSpan max, Func<CancellationToken, Task> action, ILogger log)
    : IAsyncDisposable
{
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _stop = new();
    private long _lastSignalTicks;
    private Task? _loop;

    public void Start() => _loop = Task.Run(() => RunAsync(_stop.Token));

    public void Signal()
    {
        Volatile.Write(ref _lastSignalTicks, time.GetUtcNow().UtcTicks);
        _wake.Writer.TryWrite(true);
    }

    private async Task RunAsync(CancellationToken ct)
    {
        try
        {
            while (await _wake.Reader.WaitToReadAsync(ct))
            {
                _wake.Reader.TryRead(out _);
                var first = time.GetUtcNow().UtcTicks;
                while (true)
                {
                    var due = Math.Min(Volatile.Read(ref _lastSignalTicks) + quiet.Ticks, first + max.Ticks);
                    var wait = due - time.GetUtcNow().UtcTicks;
                    if (wait <= 0)
                    {
                        break;
                    }

                    await Task.Delay(TimeSpan.FromTicks(wait), time, ct);
                }

                // Signals of this burst are covered by the round about to run: it reads the latest snapshots.
                _wake.Reader.TryRead(out _);
                try
                {
                    await action(ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogError(e, "push round failed");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }

        _stop.Dispose();
    }
}
