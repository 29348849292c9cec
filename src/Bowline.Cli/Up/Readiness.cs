using System.Net;

namespace Bowline.Cli.Up;

/// <summary>Polls readiness endpoints until they answer 200, giving up early when the process behind one exits.</summary>
internal static class Readiness
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>True once <paramref name="probe"/> succeeds; false on timeout or when a watched process exits first.</summary>
    public static async Task<bool> WaitAsync(
        Func<CancellationToken, Task<bool>> probe, IReadOnlyList<SupervisedProcess> watched, TimeSpan timeout, CancellationToken cancel)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        deadline.CancelAfter(timeout);
        try
        {
            while (!watched.Any(p => p.HasExited))
            {
                if (await probe(deadline.Token))
                {
                    return true;
                }
                await Task.Delay(PollInterval, deadline.Token);
            }
            return false;
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Waits for every proxy's admin <c>/ready</c>; returns the processes of the ones that never got there.</summary>
    public static async Task<IReadOnlyList<SupervisedProcess>> WaitForProxiesAsync(
        IEnumerable<(int AdminPort, SupervisedProcess Process)> proxies, TimeSpan timeout, CancellationToken cancel)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var waits = proxies.Select(async proxy =>
        {
            var url = new Uri($"http://127.0.0.1:{proxy.AdminPort}/ready");
            var ready = await WaitAsync(ct => IsOkAsync(http, url, ct), [proxy.Process], timeout, cancel);
            return (proxy.Process, Ready: ready);
        }).ToList();
        var results = await Task.WhenAll(waits);
        return [.. results.Where(r => !r.Ready).Select(r => r.Process)];
    }

    public static async Task<bool> IsOkAsync(HttpClient http, Uri url, CancellationToken cancel)
    {
        try
        {
            using var response = await http.GetAsync(url, cancel);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!cancel.IsCancellationRequested)
        {
            // HttpClient's own per-request timeout: not ready yet.
            return false;
        }
    }
}
