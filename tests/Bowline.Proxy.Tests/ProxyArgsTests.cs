namespace Bowline.Proxy.Tests;

public sealed class ProxyArgsTests
{
    [Fact]
    public void Parse_AllOptions_ReadsThem()
    {
        var args = ProxyArgs.Parse(["--id", "reviews-v1-0.default", "--pod", "reviews-v1-0", "--namespace", "default", "--xds", "http://127.0.0.1:15010", "--admin", "127.0.0.1:15000"]);

        Assert.Equal("reviews-v1-0.default", args.Id);
        Assert.Equal("reviews-v1-0", args.Pod);
        Assert.Equal("default", args.Namespace);
        Assert.Equal(new Uri("http://127.0.0.1:15010"), args.Xds);
        Assert.Equal(15000, args.Admin.Port);
    }

    [Theory]
    [InlineData("unknown argument '--verbose'", "--verbose")]
    [InlineData("--id is required", "--pod", "p", "--namespace", "n", "--xds", "http://127.0.0.1:1", "--admin", "127.0.0.1:2")]
    [InlineData("--admin needs a value", "--admin")]
    [InlineData("--admin must be ip:port", "--id", "i", "--pod", "p", "--namespace", "n", "--xds", "http://127.0.0.1:1", "--admin", "nowhere")]
    [InlineData("--xds must be an http:// URL", "--id", "i", "--pod", "p", "--namespace", "n", "--xds", "tcp://x", "--admin", "127.0.0.1:2")]
    public void Parse_BadArguments_ThrowsSayingWhat(string expected, params string[] args)
    {
        var e = Assert.Throws<FormatException>(() => ProxyArgs.Parse(args));

        Assert.Contains(expected, e.Message);
    }
}
