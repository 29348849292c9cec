using System.Net;
using System.Text;
using Bowline.Proxy.Tests.Infrastructure;

namespace Bowline.Proxy.Tests.Http1;

public sealed class Http1ConcurrencyTests
{
    [Fact]
    public async Task TwoHundredRequestsFrom32ConcurrentClients_EachGetsItsOwnBody()
    {
        // Each answer names its request and has its own length; every third one is chunked. A connection or buffer
        // shared between exchanges shows up as a body with someone else's id, or a wrong length.
        await using var upstream = RawUpstream.Start(e =>
        {
            var id = e.Request.RequestLine.Split(' ')[1].TrimStart('/');
            var n = int.Parse(id, System.Globalization.CultureInfo.InvariantCulture);
            var body = string.Concat(Enumerable.Repeat($"<{id}>", 1 + (n * 37 % 500)));
            return n % 3 == 0
                ? e.WriteAsync($"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{body.Length:x}\r\n{body}\r\n0\r\n\r\n")
                : e.WriteAsync($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n{body}");
        });
        await using var proxy = await Http1Proxy.InboundAsync(upstream.Port);

        var next = -1;
        var clients = Enumerable.Range(0, 32).Select(_ => Clients.Direct()).ToArray();
        try
        {
            var results = await Task.WhenAll(clients.Select(async client =>
            {
                var seen = new List<(int Id, HttpStatusCode Status, string Body)>();
                int id;
                while ((id = Interlocked.Increment(ref next)) < 200)
                {
                    using var response = await client.GetAsync(proxy.InboundUri($"/{id}"));
                    seen.Add((id, response.StatusCode, await response.Content.ReadAsStringAsync()));
                }

                return seen;
            }));

            var all = results.SelectMany(r => r).OrderBy(r => r.Id).ToList();
            Assert.Equal(200, all.Count);
            foreach (var (id, status, body) in all)
            {
                Assert.Equal(HttpStatusCode.OK, status);
                Assert.Equal(string.Concat(Enumerable.Repeat($"<{id}>", 1 + (id * 37 % 500))), body);
            }

            Assert.True(upstream.Accepted <= 200, $"{upstream.Accepted} upstream connections");
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }
}
