using Bowline.Proxy.Pipeline;

namespace Bowline.Proxy.Tests;

public sealed class ResponseFlagsTests
{
    [Theory]
    [InlineData(0, "-")]
    [InlineData((int)ResponseFlags.NoRoute, "NR")]
    [InlineData((int)(ResponseFlags.UpstreamConnectionFailure | ResponseFlags.UpstreamRetryLimitExceeded), "UF,URX")]
    [InlineData((int)ResponseFlags.DownstreamConnectionTermination, "DC")]
    [InlineData((int)ResponseFlags.DownstreamProtocolError, "DPE")]
    public void ToShortString_Flags_UsesEnvoyCodes(int flags, string expected) =>
        Assert.Equal(expected, ((ResponseFlags)flags).ToShortString());
}
