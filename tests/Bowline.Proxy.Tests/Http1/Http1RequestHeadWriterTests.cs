using System.Text;
using Bowline.Proxy.Forwarding.Http1;
using Xunit;

namespace Bowline.Proxy.Tests.Http1;

public sealed class Http1RequestHeadWriterTests
{
    private static string Text(Http1RequestHead head) => Encoding.UTF8.GetString(head.Written.Span);

    [Fact]
    public void AsciiFields_WrittenAsFieldLines_ThenTheEmptyLine()
    {
        using var head = new Http1RequestHead(64);
        head.RequestLine("GET", "/a?b=c");
        head.Header("Host", "reviews:9080");
        head.Header("x-empty", null);
        head.End();

        Assert.Equal("GET /a?b=c HTTP/1.1\r\nHost: reviews:9080\r\nx-empty: \r\n\r\n", Text(head));
    }

    [Fact]
    public void NonAsciiValueAfterAsciiOnes_WrittenAsUtf8_WithoutLeftoversOfTheAsciiAttempt()
    {
        using var head = new Http1RequestHead(64);
        head.Header("a", "1");
        head.Header("x-name", "Zoë Ångström");
        head.Header("b", "2");

        Assert.Equal("a: 1\r\nx-name: Zoë Ångström\r\nb: 2\r\n", Text(head));
    }

    [Fact]
    public void FieldsLargerThanTheBuffer_GrowItAndKeepWhatWasWritten()
    {
        using var head = new Http1RequestHead(16);
        var big = new string('v', 5000);
        head.Header("first", "1");
        head.Header("x-big", big);
        head.Header("last", "2");

        Assert.Equal($"first: 1\r\nx-big: {big}\r\nlast: 2\r\n", Text(head));
    }

    [Theory]
    [InlineData("a\rb")]
    [InlineData("a\nb")]
    [InlineData("a\0b")]
    public void ValueWithCrLfOrNul_IsRefused_NothingOfTheLineWritten(string value)
    {
        var head = new Http1RequestHead(64);
        try
        {
            head.Header("a", "1");
            var e = Assert.Throws<InvalidOperationException>(() => head.Header("x-bad", value));
            Assert.Contains("x-bad", e.Message, StringComparison.Ordinal);
            Assert.Equal("a: 1\r\n", Text(head));
        }
        finally
        {
            head.Dispose();
        }
    }
}
