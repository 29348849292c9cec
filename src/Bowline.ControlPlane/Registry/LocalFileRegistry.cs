using Bowline.Api.Registry;

namespace Bowline.ControlPlane.Registry;

/// <summary>
/// Workloads from &lt;state-dir&gt;/registry.json, which `bowline up` (re)writes. Polled (mtime + length every
/// ~250 ms, then a byte comparison) rather than watched: FileSystemWatcher misses renames on some filesystems, and a
/// poll this cheap is simpler to reason about. A missing file is an empty registry; a file that does not parse
/// (caught mid-write) keeps the previous snapshot and is read again on the next poll.
/// </summary>
internal sealed class LocalFileRegistry : IWorkloadRegistry, IAsyncDisposable
{
    private readonly string _path;
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private RegistrySnapshot _current = RegistrySnapshot.Empty;
    private (DateTime Mtime, long Length) _stamp;
    private byte[]? _bytes;
    private Task? _poller;

    public LocalFileRegistry(string path, TimeProvider time, ILogger<LocalFileRegistry> log, TimeSpan? interval = null)
    {
        _path = path;
        _time = time;
        _log = log;
        _interval = interval ?? TimeSpan.FromMilliseconds(250);
    }

    public RegistrySnapshot Current => Volatile.Read(ref _current);

    public event Action? Changed;

    /// <summary>Reads the file once (start-up) and starts polling.</summary>
    public void Start()
    {
        Poll();
        _poller = Task.Run(PollLoopAsync);
    }

    private async Task PollLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_interval, _time, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Poll();
        }
    }

    /// <summary>Checks the file now; true when a new snapshot was published.</summary>
    internal bool Poll()
    {
        try
        {
            var info = new FileInfo(_path);
            if (!info.Exists)
            {
                if (_bytes is not null && _bytes.Length == 0)
                {
                    return false;
                }

                _bytes = [];
                _stamp = default;
                return Publish([]);
            }

            var stamp = (info.LastWriteTimeUtc, info.Length);
            if (stamp == _stamp)
            {
                return false;
            }

            var bytes = File.ReadAllBytes(_path);
            if (_bytes is not null && bytes.AsSpan().SequenceEqual(_bytes))
            {
                _stamp = stamp;
                return false;
            }

            var registry = LocalRegistry.Read(_path);
            _stamp = stamp;
            _bytes = bytes;
            return Publish(registry.Pods.IsDefault ? [] : [.. registry.Pods.Select(Normalize)]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or InvalidDataException)
        {
            // Partial or locked file: keep the last good snapshot; the stamp is not updated so the next poll retries.
            _log.RegistryUnreadable(_path, e.Message);
            return false;
        }
    }

    /// <summary>
    /// The source-generated reader leaves properties absent from the file null/default instead of their initializers;
    /// restore those defaults so the rest of the control plane can rely on them.
    /// </summary>
    internal static LocalPod Normalize(LocalPod p) => p with
    {
        Labels = p.Labels ?? System.Collections.Immutable.ImmutableDictionary<string, string>.Empty,
        ServiceAccount = string.IsNullOrEmpty(p.ServiceAccount) ? "default" : p.ServiceAccount,
        Address = string.IsNullOrEmpty(p.Address) ? "127.0.0.1" : p.Address,
        Ports = p.Ports.IsDefault ? [] : p.Ports,
        GatewayPorts = p.GatewayPorts ?? System.Collections.Immutable.ImmutableDictionary<int, int>.Empty,
        Workload = p.Workload ?? p.Name,
    };

    private bool Publish(System.Collections.Immutable.ImmutableArray<LocalPod> pods)
    {
        var next = new RegistrySnapshot(Current.Generation + 1, pods);
        Volatile.Write(ref _current, next);
        _log.RegistryLoaded(pods.Length, next.Generation);
        Changed?.Invoke();
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_poller is not null)
        {
            await _poller;
        }

        _stop.Dispose();
    }
}
