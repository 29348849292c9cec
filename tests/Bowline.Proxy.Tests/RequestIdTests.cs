using Bowline.Proxy.Forwarding;

namespace Bowline.Proxy.Tests;

public sealed class RequestIdTests
{
    [Fact]
    public void New_IsAVersion4UuidInCanonicalForm_AndDiffersEachTime()
    {
        var seen = new HashSet<string>();
        for (var i = 0; i < 1000; i++)
        {
            var id = RequestId.New();
            Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", id);
            Assert.Equal(4, Guid.Parse(id).Version);
            Assert.True(seen.Add(id));
        }
    }
}
