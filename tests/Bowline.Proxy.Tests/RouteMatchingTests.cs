using System.Collections.Immutable;
using Bowline.Api.Xds;
using Bowline.Proxy.Config;
using Bowline.Proxy.Routing;
using Microsoft.AspNetCore.Http;
using static Bowline.Proxy.Tests.Infrastructure.Configs;

namespace Bowline.Proxy.Tests;

public sealed class RouteMatchingTests
{
    [Theory]
    [InlineData("reviews", "exact")]
    [InlineData("REVIEWS:9080", "exact")]
    [InlineData("api.example.com", "suffix")]
    [InlineData("api.example.com:8080", "suffix")]
    [InlineData("example.com", "star")]
    [InlineData("ratings", "star")]
    public void FindVirtualHost_Authority_MatchesExactSuffixAndStarInOrder(string authority, string expected)
    {
        var table = CompileTable(
            Host("exact", ["reviews", "reviews:9080"], Route("c")),
            Host("suffix", ["*.example.com"], Route("c")),
            Host("star", ["*"], Route("c")));

        Assert.Equal(expected, table.FindVirtualHost(authority)?.Name);
    }

    [Fact]
    public void FindVirtualHost_EarlierWildcardBeforeLaterExact_FirstInOrderWins()
    {
        var table = CompileTable(Host("first", ["*.svc"], Route("c")), Host("second", ["a.svc"], Route("c")));

        Assert.Equal("first", table.FindVirtualHost("a.svc")?.Name);
    }

    [Fact]
    public void FindVirtualHost_HostWithPort_PrefersAHostNamingThatPortOverAnEarlierBareName()
    {
        var table = CompileTable(Host("p9080", ["reviews", "reviews:9080"], Route("c")), Host("p9090", ["reviews:9090"], Route("c")));

        Assert.Equal("p9090", table.FindVirtualHost("reviews:9090")?.Name);
        Assert.Equal("p9080", table.FindVirtualHost("reviews:1234")?.Name);
    }

    [Fact]
    public void FindVirtualHost_PrefixWildcard_MatchesAnyPort()
    {
        var table = CompileTable(Host("gw", ["bookinfo.example.com:*"], Route("c")));

        Assert.Equal("gw", table.FindVirtualHost("bookinfo.example.com:8080")?.Name);
    }

    [Fact]
    public void FindVirtualHost_NoDomainMatches_ReturnsNull()
    {
        var table = CompileTable(Host("exact", ["reviews:9080"], Route("c")));

        Assert.Null(table.FindVirtualHost("ratings:9080"));
    }

    [Theory]
    [InlineData("/api/v1", true)]
    [InlineData("/api/v1/x", false)]
    [InlineData("/API/V1", false)]
    public void IsMatch_ExactUri_ComparesWholePathCaseSensitively(string path, bool expected) =>
        Assert.Equal(expected, Matches(new RouteMatch { Uri = Exact("/api/v1") }, path));

    [Fact]
    public void IsMatch_IgnoreUriCase_ComparesCaseInsensitively() =>
        Assert.True(Matches(new RouteMatch { Uri = Prefix("/api"), IgnoreUriCase = true }, "/API/x"));

    [Theory]
    [InlineData("/reviews/12", true)]
    [InlineData("/reviews/12/extra", false)]
    [InlineData("/x/reviews/12", false)]
    public void IsMatch_RegexUri_IsAFullMatch(string path, bool expected) =>
        Assert.Equal(expected, Matches(new RouteMatch { Uri = Regex("/reviews/[0-9]+") }, path));

    [Fact]
    public void IsMatch_UriRules_IgnoreTheQueryString() =>
        Assert.True(Matches(new RouteMatch { Uri = Exact("/p") }, "/p?x=1"));

    [Theory]
    [InlineData("jason", true)]
    [InlineData("Jason", false)]
    [InlineData(null, false)]
    public void IsMatch_ExactHeader_RequiresTheValue(string? value, bool expected) =>
        Assert.Equal(expected, Matches(new RouteMatch { Headers = Headers(("end-user", Exact("jason"))) }, "/", ("end-user", value)));

    [Theory]
    [InlineData("anything", true)]
    [InlineData(null, false)]
    public void IsMatch_EmptyHeaderMatch_MeansPresent(string? value, bool expected) =>
        Assert.Equal(expected, Matches(new RouteMatch { Headers = Headers(("x-canary", new StringMatch())) }, "/", ("x-canary", value)));

    [Theory]
    [InlineData("Mozilla/5.0 Chrome/120", true)]
    [InlineData("curl/8", false)]
    public void IsMatch_RegexHeader_IsAFullMatch(string value, bool expected) =>
        Assert.Equal(expected, Matches(new RouteMatch { Headers = Headers(("user-agent", Regex(".*Chrome.*"))) }, "/", ("user-agent", value)));

    [Theory]
    [InlineData("jason", false)]
    [InlineData("other", true)]
    [InlineData(null, true)]
    public void IsMatch_WithoutHeaders_RejectsMatchingHeader(string? value, bool expected) =>
        Assert.Equal(expected, Matches(new RouteMatch { WithoutHeaders = Headers(("end-user", Exact("jason"))) }, "/", ("end-user", value)));

    [Theory]
    [InlineData("/p?version=v2", true)]
    [InlineData("/p?version=v1", false)]
    [InlineData("/p", false)]
    public void IsMatch_QueryParam_MatchesItsValue(string target, bool expected) =>
        Assert.Equal(expected, Matches(new RouteMatch { QueryParams = Headers(("version", Exact("v2"))) }, target));

    [Theory]
    [InlineData("POST", true)]
    [InlineData("GET", false)]
    public void IsMatch_Method_MatchesExactly(string method, bool expected) =>
        Assert.Equal(expected, Matches(new RouteMatch { Method = Exact("POST") }, "/", method: method));

    [Theory]
    [InlineData(8080, true)]
    [InlineData(9090, false)]
    public void IsMatch_Port_MatchesTheListenerPort(int port, bool expected) =>
        Assert.Equal(expected, Matches(new RouteMatch { Port = 8080 }, "/", port: port));

    [Fact]
    public void IsMatch_AllConditionsOfOneMatch_MustHold() =>
        Assert.False(Matches(new RouteMatch { Uri = Prefix("/api"), Method = Exact("POST") }, "/api", method: "GET"));

    [Fact]
    public void FindRoute_SeveralMatchesOnARoute_AnyOneIsEnough()
    {
        var table = CompileTable(Host("h", ["*"],
            Route("a", new RouteMatch { Uri = Prefix("/a") }, new RouteMatch { Uri = Prefix("/b") }),
            Route("fallback")));

        Assert.Equal("to-a", FindRoute(table, "/b/x")?.Name);
        Assert.Equal("to-fallback", FindRoute(table, "/c")?.Name);
    }

    private static bool Matches(RouteMatch match, string target, (string Name, string? Value) header = default, string method = "GET", int port = 80)
    {
        var compiled = new CompiledRouteMatch(match, "test");
        var context = Request(target, header, method);
        var facts = new RequestFacts(context.Request, Pipeline.OriginForm.PathOf(target), "svc", port);
        return compiled.IsMatch(facts);
    }

    private static CompiledRoute? FindRoute(CompiledRouteTable table, string target)
    {
        var context = Request(target, default, "GET");
        var facts = new RequestFacts(context.Request, Pipeline.OriginForm.PathOf(target), "svc", 80);
        return table.FindVirtualHost("svc")!.FindRoute(facts);
    }

    private static DefaultHttpContext Request(string target, (string Name, string? Value) header, string method)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        var query = target.IndexOf('?');
        context.Request.Path = query < 0 ? target : target[..query];
        context.Request.QueryString = query < 0 ? QueryString.Empty : new QueryString(target[query..]);
        if (header.Value is not null)
        {
            context.Request.Headers[header.Name] = header.Value;
        }

        return context;
    }

    private static CompiledRouteTable CompileTable(params VirtualHost[] hosts)
    {
        var config = ConfigOf([Outbound()], [Table("outbound", hosts)], [Cluster("c", 1), Cluster("a", 1), Cluster("fallback", 1)]);
        return ConfigCompiler.Compile(config).Listeners[0].RouteTable!;
    }
}
