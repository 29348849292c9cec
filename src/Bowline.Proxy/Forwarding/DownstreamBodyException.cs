using Microsoft.AspNetCore.Http;

namespace Bowline.Proxy.Forwarding;

/// <summary>
/// Reading the downstream request body failed while it was being sent upstream. Marked at the read, so the forwarder
/// can tell the client's broken body (a 4xx, flag DPE) from an upstream that failed mid-request (a 503 that counts
/// against the endpoint) — both surface as the same failed send. Kestrel reports most malformed chunked bodies as
/// <see cref="BadHttpRequestException"/>, but a chunk size that overflows as a plain <see cref="IOException"/>.
/// </summary>
internal sealed class DownstreamBodyException(Exception inner) : IOException("reading the downstream request body failed: " + inner.Message, inner)
{
    /// <summary>The status the client gets: Kestrel's own for a rejected body, else 400.</summary>
    public int StatusCode => InnerException is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status400BadRequest;

    /// <summary>The client's status when <paramref name="e"/> or one of its causes is a failed downstream body read; else null.</summary>
    public static int? StatusOf(Exception e)
    {
        for (Exception? cause = e; cause is not null; cause = cause.InnerException)
        {
            switch (cause)
            {
                case DownstreamBodyException body:
                    return body.StatusCode;
                case BadHttpRequestException bad:
                    return bad.StatusCode;
            }
        }

        return null;
    }
}
