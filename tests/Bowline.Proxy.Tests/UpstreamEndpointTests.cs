using Bowline.Proxy.LoadBalancing;

namespace Bowline.Proxy.Tests;

public sealed class UpstreamEndpointTests
{
    [Fact]
    public void UriFor_RepeatedTarget_ReusesTheUriAndANewTargetGetsItsOwn()
    {
        var endpoint = new UpstreamEndpoint("10.0.0.7", 9080, pod: null);

        var first = endpoint.UriFor("/reviews/0?x=1");
        var again = endpoint.UriFor(string.Concat("/reviews/", "0?x=1"));
        var other = endpoint.UriFor("/ratings/0");
        var back = endpoint.UriFor("/reviews/0?x=1");

        Assert.Same(first, again);
        Assert.Equal("http://10.0.0.7:9080/reviews/0?x=1", first.AbsoluteUri);
        Assert.Equal("/ratings/0", other.PathAndQuery);
        Assert.Equal(first, back);
    }

    [Fact]
    public void UriFor_Ipv6Endpoint_BracketsTheAddress()
    {
        var endpoint = new UpstreamEndpoint("::1", 8080, pod: null);

        var uri = endpoint.UriFor("/a%20b");

        Assert.Equal("[::1]", uri.Host);
        Assert.Equal(8080, uri.Port);
        Assert.Equal("/a%20b", uri.PathAndQuery);
    }
}
