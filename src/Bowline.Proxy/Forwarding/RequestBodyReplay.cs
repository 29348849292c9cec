using System.Net;

namespace Bowline.Proxy.Forwarding;

/// <summary>
/// The retry buffer of one request: the body bytes read so far, up to <see cref="Limit"/>. A later try first waits
/// for the previous try's copy to stop (HttpClient cancels it when that try ends), sends the kept bytes, then goes on
/// reading the downstream body where the previous try left off. Past the limit the body cannot be replayed and the
/// request is not retried, as in Envoy (whose buffer limit is per request too).
/// </summary>
internal sealed class RequestBodyReplay
{
    /// <summary>Enough for unary gRPC calls and form posts; larger bodies stream unbuffered and are not retried.</summary>
    public const int Limit = 64 * 1024;

    private byte[] _kept = [];
    private int _length;
    private volatile bool _overflowed;
    private volatile bool _ended;
    private Task _previous = Task.CompletedTask;

    public bool CanReplay => !_overflowed;

    public void Keep(ReadOnlySpan<byte> bytes)
    {
        if (_overflowed)
        {
            return;
        }

        if (_length + bytes.Length > Limit)
        {
            _overflowed = true;
            _kept = [];
            return;
        }

        if (_length + bytes.Length > _kept.Length)
        {
            Array.Resize(ref _kept, Math.Min(Limit, Math.Max(_kept.Length * 2, Math.Max(4096, _length + bytes.Length))));
        }

        bytes.CopyTo(_kept.AsSpan(_length));
        _length += bytes.Length;
    }

    public void Ended() => _ended = true;

    public Task SendAsync(Stream body, Stream to, CancellationToken cancellationToken)
    {
        var previous = _previous;
        var send = SendAfterAsync(previous, body, to, cancellationToken);
        _previous = send;
        return send;
    }

    private async Task SendAfterAsync(Task previous, Stream body, Stream to, CancellationToken cancellationToken)
    {
        try
        {
            await previous.WaitAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The previous try's copy failed or was cancelled: what it read is kept all the same.
        }

        if (_length > 0)
        {
            await to.WriteAsync(_kept.AsMemory(0, _length), cancellationToken);
        }

        if (_ended)
        {
            await to.FlushAsync(cancellationToken);
            return;
        }

        await RequestBodyContent.CopyFlushingAsync(body, to, this, cancellationToken);
    }
}
