using System.Text;
using Bowline.Proxy.Forwarding.Http1;

namespace Bowline.Proxy.Tests.Http1;

/// <summary>
/// The parser reuses what it parsed from the previous response on the connection for lines equal byte for byte: every
/// response must still parse exactly as it would on a fresh connection.
/// </summary>
public sealed class Http1ResponseHeadTests
{
    [Fact]
    public void SecondResponse_OnlyDateDiffers_SameResultAsAFreshParse()
    {
        var reused = new Http1ResponseHead();
        reused.Parse(Head("HTTP/1.1 200 OK", "Server: nginx", "Date: Mon, 07 Dec 2026 15:00:00 GMT", "Content-Length: 5", "Connection: keep-alive", "ETag: \"a\""), false);
        var second = Head("HTTP/1.1 200 OK", "Server: nginx", "Date: Mon, 07 Dec 2026 15:00:01 GMT", "Content-Length: 5", "Connection: keep-alive", "ETag: \"a\"");

        reused.Parse(second, false);

        Assert.Equal(Describe(Fresh(second)), Describe(reused));
        Assert.Equal("Mon, 07 Dec 2026 15:00:01 GMT", reused.Get("Date"));
    }

    [Fact]
    public void FieldNamedByConnectionInFirstResponseOnly_ForwardedInTheSecond()
    {
        var head = new Http1ResponseHead();
        head.Parse(Head("HTTP/1.1 200 OK", "X-Private: 1", "Connection: x-private", "Content-Length: 0"), false);
        Assert.False(head.IsEndToEnd(0)); // the first response's Connection lists it

        head.Parse(Head("HTTP/1.1 200 OK", "X-Private: 1", "Connection: keep-alive", "Content-Length: 0"), false);

        Assert.True(head.IsEndToEnd(0)); // the second response's Connection does not list it
    }

    [Fact]
    public void SameContentLengthLine_TransferEncodingAddedInSecondResponse_ChunkedFramingAndLengthNotForwarded()
    {
        var head = new Http1ResponseHead();
        head.Parse(Head("HTTP/1.1 200 OK", "Content-Length: 5"), false);
        Assert.Equal(BodyFraming.ContentLength, head.Framing);

        head.Parse(Head("HTTP/1.1 200 OK", "Content-Length: 5", "Transfer-Encoding: chunked"), false);

        Assert.Equal(BodyFraming.Chunked, head.Framing);
        Assert.False(head.IsEndToEnd(0));
    }

    [Fact]
    public void SameConnectionCloseLine_SecondResponse_StillNotKeptAlive()
    {
        var head = new Http1ResponseHead();
        var close = Head("HTTP/1.1 200 OK", "Connection: close", "Content-Length: 1");
        head.Parse(close, false);

        head.Parse(close, false);

        Assert.False(head.KeepAlive);
    }

    [Fact]
    public void LineInvalidInSecondResponse_Rejected()
    {
        var head = new Http1ResponseHead();
        head.Parse(Head("HTTP/1.1 200 OK", "Server: a", "Content-Length: 1"), false);

        var act = () => head.Parse(Head("HTTP/1.1 200 OK", "Server : a", "Content-Length: 1"), false);

        Assert.Throws<Http1ProtocolException>(act);
    }

    [Theory]
    [InlineData(false, "Set-Cookie: a=1", "Content-Type: text/plain")]
    [InlineData(true, "Set-Cookie: a=1", "set-cookie: b=2")]
    [InlineData(true, "X-Custom: 1", "x-custom: 2")]
    [InlineData(false, "X-Custom: 1", "X-Other: 2")]
    public void RepeatedFieldName_Reported(bool repeats, string first, string second)
    {
        var head = Fresh(Head("HTTP/1.1 200 OK", first, "Content-Length: 0", second));

        Assert.Equal(repeats, head.RepeatsNames);
    }

    [Fact]
    public void ManyResponsesOnOneConnection_EachParsesAsOnAFreshConnection()
    {
        // Heads drawn from a small pool of lines, so that lines repeat at the same and at other positions.
        string[] pool =
        [
            "Server: nginx", "server: nginx", "Date: Mon, 07 Dec 2026 15:00:00 GMT", "Date: Mon, 07 Dec 2026 15:00:01 GMT",
            "Content-Length: 5", "Content-Length: 12", "Content-Length:5", "Transfer-Encoding: chunked", "Transfer-Encoding: gzip",
            "Connection: keep-alive", "Connection: close", "Connection: x-a", "Connection: keep-alive, x-b", "X-A: 1", "X-B: 2",
            "x-a: 3", "Set-Cookie: s=1", "Set-Cookie: s=2", "Keep-Alive: timeout=5", "Content-Type: text/plain", "ETag: \"x\"",
            "Vary:  Accept ", "X-Empty:",
        ];
        var random = new Random(20261207);
        var reused = new Http1ResponseHead();
        for (var i = 0; i < 2000; i++)
        {
            var lines = new List<string> { random.Next(4) == 0 ? "HTTP/1.0 200 OK" : "HTTP/1.1 200 OK" };
            for (var n = random.Next(8); n > 0; n--)
            {
                lines.Add(pool[random.Next(pool.Length)]);
            }

            var head = Head([.. lines]);
            var isHead = random.Next(10) == 0;
            var expected = Attempt(() => Fresh(head, isHead));
            var actual = Attempt(() =>
            {
                reused.Parse(head, isHead);
                return reused;
            });

            Assert.True(expected == actual, $"response {i}:\n{Encoding.ASCII.GetString(head)}\nexpected:\n{expected}\nactual:\n{actual}");
        }
    }

    private static string Attempt(Func<Http1ResponseHead> parse)
    {
        try
        {
            return Describe(parse());
        }
        catch (Http1ProtocolException e)
        {
            return "rejected: " + e.Message;
        }
    }

    private static Http1ResponseHead Fresh(byte[] head, bool isHead = false)
    {
        var parsed = new Http1ResponseHead();
        parsed.Parse(head, isHead);
        return parsed;
    }

    private static string Describe(Http1ResponseHead head)
    {
        var text = new StringBuilder($"{head.StatusCode} keepAlive={head.KeepAlive} framing={head.Framing} length={head.ContentLength} repeats={head.RepeatsNames}\n");
        for (var i = 0; i < head.Headers.Count; i++)
        {
            text.Append($"{head.Headers[i].Key}: {head.Headers[i].Value} endToEnd={head.IsEndToEnd(i)}\n");
        }

        return text.ToString();
    }

    // The head as the connection hands it over: status line through the last field line, without the final CRLF CRLF.
    private static byte[] Head(params string[] lines) => Encoding.ASCII.GetBytes(string.Join("\r\n", lines));
}
