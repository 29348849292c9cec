namespace Bowline.ControlPlane.Tests.Config;

public sealed class ControlPlaneOptionsTests
{
    [Fact]
    public void Parse_AllOptions_Parsed()
    {
        var o = ControlPlaneOptions.Parse(["--listen", "127.0.0.1:15010", "--state-dir", "/tmp/x", "--debounce", "250ms"]);

        Assert.Equal(("127.0.0.1:15010", "/tmp/x", TimeSpan.FromMilliseconds(250)), (o.Listen.ToString(), o.StateDir, o.Debounce));
    }

    [Theory]
    [InlineData("--state-dir", "/tmp/x")]
    [InlineData("--listen", "127.0.0.1", "--state-dir", "/tmp/x")]
    [InlineData("--listen", "127.0.0.1:1", "--state-dir", "/tmp/x", "--debounce", "soon")]
    [InlineData("--listen", "127.0.0.1:1", "--state-dir", "/tmp/x", "--bogus")]
    [InlineData("--listen")]
    public void Parse_BadArguments_Throws(params string[] args) =>
        Assert.Throws<ArgumentException>(() => ControlPlaneOptions.Parse(args));
}
