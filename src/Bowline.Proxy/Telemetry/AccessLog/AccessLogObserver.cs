using System.Diagnostics;
using Bowline.Api.Xds;
using Bowline.Proxy.Config;
using Bowline.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Telemetry.AccessLog;

/// <summary>
/// Writes one access log line per finished request when the proxy's config has an access log (off by default). The
/// compiled format and the writer follow the config: rebuilt when the pushed access log section changes, never locked.
/// </summary>
internal sealed class AccessLogObserver(ISnapshotSource snapshots) : IRequestObserver, IAsyncDisposable
{
    private sealed record State(AccessLogConfig Config, AccessLogFormatter Formatter, AccessLogWriter Writer);

    private State? _state;
    private long _droppedBefore;
    private long _writtenBefore;

    /// <summary>Lines dropped because the queue was full, over the proxy's life.</summary>
    public long Dropped => Interlocked.Read(ref _droppedBefore) + (Volatile.Read(ref _state)?.Writer.Dropped ?? 0);

    public long Written => Interlocked.Read(ref _writtenBefore) + (Volatile.Read(ref _state)?.Writer.Written ?? 0);

    public void OnRequestCompleted(HttpContext context, ProxyRequestFeature feature)
    {
        if (snapshots.Current?.Config.Telemetry?.AccessLog is not { } config)
        {
            return;
        }

        var state = StateFor(config);
        state?.Writer.Enqueue(state.Formatter.Format(new RequestRecord(context, feature, Stopwatch.GetTimestamp())));
    }

    private State? StateFor(AccessLogConfig config)
    {
        var state = Volatile.Read(ref _state);
        if (state is not null && (ReferenceEquals(state.Config, config) || state.Config == config))
        {
            return state;
        }

        AccessLogFormatter formatter;
        try
        {
            formatter = AccessLogFormatter.Compile(config);
        }
        catch (ConfigException)
        {
            // Validated before the config was accepted (see ConfigCompiler); never reached with a pushed config.
            return null;
        }

        var writer = state?.Writer.Path == config.Path ? state.Writer : new AccessLogWriter(config.Path);
        var fresh = new State(config, formatter, writer);
        var seen = Interlocked.CompareExchange(ref _state, fresh, state);
        if (!ReferenceEquals(seen, state))
        {
            // Another request swapped first: use its state, and drop the writer made here if it is ours alone.
            if (!ReferenceEquals(writer, state?.Writer) && !ReferenceEquals(writer, seen?.Writer))
            {
                _ = writer.DisposeAsync().AsTask();
            }

            return seen;
        }

        if (state is not null && !ReferenceEquals(state.Writer, writer))
        {
            Interlocked.Add(ref _droppedBefore, state.Writer.Dropped);
            _ = RetireAsync(state.Writer);
        }

        return fresh;
    }

    private async Task RetireAsync(AccessLogWriter writer)
    {
        await writer.DisposeAsync();
        Interlocked.Add(ref _writtenBefore, writer.Written);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _state, null) is { } state)
        {
            await state.Writer.DisposeAsync();
        }
    }
}
