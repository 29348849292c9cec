using System.Net;
using System.Text;
using Bowline.Api.Xds;
using Bowline.Proxy.Config;
using Bowline.Proxy.LoadBalancing;
using Bowline.Proxy.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Endpoint = Bowline.Api.Xds.Endpoint;

namespace Bowline.Proxy.Tests;

public sealed class LoadBalancerTests
{
    private static Cluster ClusterOf(int endpoints, LoadBalancer? lb) => new()
    {
        Name = "c",
        Endpoints = [.. Enumerable.Range(1, endpoints).Select(i => new Endpoint { Address = $"10.0.0.{i}", Port = 9080 })],
        LoadBalancer = lb,
    };

    private static LoadBalancer Hashing(ConsistentHashAlgorithm algorithm) => new()
    {
        ConsistentHash = new ConsistentHash { HttpHeaderName = "x-user", Algorithm = algorithm },
    };

    [Theory]
    [InlineData("", 0xEF46DB3751D8E999UL)]
    [InlineData("a", 0xD24EC4F1A98C6E5BUL)]
    [InlineData("abc", 0x44BC2CF5AD770999UL)]
    public void XxHash64_KnownVectors_MatchTheReference(string input, ulong expected)
    {
        Assert.Equal(expected, XxHash64.Hash(Encoding.UTF8.GetBytes(input)));
        Assert.Equal(expected, XxHash64.Hash(input.AsSpan()));
    }

    [Fact]
    public void XxHash64_LongInput_SameForBytesAndChars()
    {
        var text = string.Concat(Enumerable.Repeat("Nobody inspects the spammish repetition ", 30));

        Assert.Equal(XxHash64.Hash(Encoding.UTF8.GetBytes(text)), XxHash64.Hash(text.AsSpan()));
        Assert.NotEqual(XxHash64.Hash(text.AsSpan()), XxHash64.Hash(text.AsSpan(), seed: 1));
    }

    [Fact]
    public void PickEndpoint_LeastRequest_PicksTheLessLoadedOfTwoChoices()
    {
        var cluster = new CompiledCluster(ClusterOf(3, new LoadBalancer { Policy = LoadBalancerPolicy.LeastRequest }));
        var busy = cluster.Endpoints[0];
        busy.BeginRequest();
        busy.BeginRequest();

        // Draws 0 then 0 → choices 0 and 1 (the second draw skips the first choice).
        var picked = cluster.PickEndpoint(null, new ScriptedRandomSource(0, 0));

        Assert.Same(cluster.Endpoints[1], picked);
        Assert.True(cluster.TracksActiveRequests);
    }

    [Fact]
    public void PickEndpoint_LeastRequestTie_TakesTheFirstChoice()
    {
        var cluster = new CompiledCluster(ClusterOf(3, new LoadBalancer { Policy = LoadBalancerPolicy.LeastRequest }));

        Assert.Same(cluster.Endpoints[2], cluster.PickEndpoint(null, new ScriptedRandomSource(2, 0)));
    }

    [Fact]
    public void PickEndpoint_LeastRequestUnderSkewedLoad_AvoidsTheBusiestEndpoint()
    {
        var cluster = new CompiledCluster(ClusterOf(4, new LoadBalancer { Policy = LoadBalancerPolicy.LeastRequest }));
        for (var i = 0; i < 10; i++)
        {
            cluster.Endpoints[3].BeginRequest();
        }

        var random = new SeededRandomSource(3);
        var picks = Enumerable.Range(0, 1000).Select(_ => cluster.PickEndpoint(null, random)).ToList();

        Assert.DoesNotContain(cluster.Endpoints[3], picks);
    }

    [Fact]
    public void PickEndpoint_Random_SpreadsUniformly()
    {
        var cluster = new CompiledCluster(ClusterOf(4, new LoadBalancer { Policy = LoadBalancerPolicy.Random }));
        var random = new SeededRandomSource(11);

        var counts = Enumerable.Range(0, 10_000).Select(_ => cluster.PickEndpoint(null, random)!.Address).CountBy(a => a).ToList();

        Assert.Equal(4, counts.Count);
        Assert.All(counts, c => Assert.InRange(c.Value, 2200, 2800));
        Assert.False(cluster.TracksActiveRequests);
    }

    [Fact]
    public void PickEndpoint_Passthrough_FallsBackToRoundRobin()
    {
        var cluster = new CompiledCluster(ClusterOf(3, new LoadBalancer { Policy = LoadBalancerPolicy.Passthrough }));

        var picks = Enumerable.Range(0, 6).Select(_ => cluster.PickEndpoint(null, new FixedRandomSource(0))!.Address).ToList();

        Assert.Equal(["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.1", "10.0.0.2", "10.0.0.3"], picks);
    }

    [Theory]
    [InlineData(ConsistentHashAlgorithm.RingHash)]
    [InlineData(ConsistentHashAlgorithm.Maglev)]
    public void PickEndpoint_ConsistentHash_SameKeySameEndpointInEveryProxy(ConsistentHashAlgorithm algorithm)
    {
        // Two independently built clusters stand for two proxies (or one proxy before and after a restart).
        var one = new CompiledCluster(ClusterOf(4, Hashing(algorithm)));
        var other = new CompiledCluster(ClusterOf(4, Hashing(algorithm)));
        var random = new FixedRandomSource(0);

        for (var i = 0; i < 1000; i++)
        {
            var hash = XxHash64.Hash($"user-{i}".AsSpan());
            var picked = one.PickEndpoint(hash, random)!.HashKey;
            Assert.Equal(picked, one.PickEndpoint(hash, random)!.HashKey);
            Assert.Equal(picked, other.PickEndpoint(hash, random)!.HashKey);
        }
    }

    [Theory]
    [InlineData(ConsistentHashAlgorithm.RingHash)]
    [InlineData(ConsistentHashAlgorithm.Maglev)]
    public void PickEndpoint_ConsistentHash_SpreadsKeysOverAllEndpoints(ConsistentHashAlgorithm algorithm)
    {
        var cluster = new CompiledCluster(ClusterOf(4, Hashing(algorithm)));

        var counts = Enumerable.Range(0, 10_000)
            .Select(i => cluster.PickEndpoint(XxHash64.Hash($"user-{i}".AsSpan()), new FixedRandomSource(0))!.HashKey)
            .CountBy(k => k).ToList();

        Assert.Equal(4, counts.Count);
        Assert.All(counts, c => Assert.InRange(c.Value, 1500, 3500));
    }

    [Theory]
    [InlineData(ConsistentHashAlgorithm.RingHash)]
    [InlineData(ConsistentHashAlgorithm.Maglev)]
    public void PickEndpoint_FifthEndpointAdded_MovesAboutAFifthOfKeys(ConsistentHashAlgorithm algorithm)
    {
        var four = new CompiledCluster(ClusterOf(4, Hashing(algorithm)));
        var five = new CompiledCluster(ClusterOf(5, Hashing(algorithm)));
        var random = new FixedRandomSource(0);
        var moved = 0;
        var movedElsewhere = 0;
        for (var i = 0; i < 10_000; i++)
        {
            var hash = XxHash64.Hash($"user-{i}".AsSpan());
            var before = four.PickEndpoint(hash, random)!.HashKey;
            var after = five.PickEndpoint(hash, random)!.HashKey;
            if (before != after)
            {
                moved++;
                movedElsewhere += after == "10.0.0.5:9080" ? 0 : 1;
            }
        }

        Assert.InRange(moved, 1000, 3000);
        if (algorithm == ConsistentHashAlgorithm.RingHash)
        {
            // The old points stay where they were: only keys the new endpoint's points took have moved.
            Assert.Equal(0, movedElsewhere);
        }
        else
        {
            Assert.InRange(movedElsewhere, 0, moved / 4);
        }
    }

    [Fact]
    public void PickEndpoint_RingAndMaglev_AreDifferentTables()
    {
        var ring = new CompiledCluster(ClusterOf(4, Hashing(ConsistentHashAlgorithm.RingHash)));
        var maglev = new CompiledCluster(ClusterOf(4, Hashing(ConsistentHashAlgorithm.Maglev)));

        var differ = Enumerable.Range(0, 1000).Count(i =>
        {
            var hash = XxHash64.Hash($"user-{i}".AsSpan());
            return ring.PickEndpoint(hash, new FixedRandomSource(0)) != maglev.PickEndpoint(hash, new FixedRandomSource(0));
        });

        Assert.InRange(differ, 500, 1000);
    }

    [Fact]
    public void PickEndpoint_ConsistentHashWithoutKey_PicksAtRandom()
    {
        var cluster = new CompiledCluster(ClusterOf(4, Hashing(ConsistentHashAlgorithm.RingHash)));

        Assert.Equal("10.0.0.3", cluster.PickEndpoint(null, new FixedRandomSource(2))!.Address);
    }

    [Fact]
    public void Compute_CookieAbsentWithTtl_GeneratesEnvoysCookieAndHashesItsValue()
    {
        var policy = new HashPolicy(new ConsistentHash { HttpCookie = new HashCookie { Name = "session", Path = "/", Ttl = TimeSpan.FromHours(1) } });
        var context = Context();

        var hash = policy.Compute(context, out var setCookie);

        var value = HashPolicy.GeneratedValue(context.Connection);
        Assert.Matches("^[0-9a-f]{16}$", value);
        Assert.Equal($"session=\"{value}\"; Max-Age=3600; Path=/; HttpOnly", setCookie);
        Assert.Equal(XxHash64.Hash(value.AsSpan()), hash);

        // The client sends the cookie back: the same hash, and no new cookie.
        var next = Context();
        next.Request.Headers.Cookie = $"session=\"{value}\"";
        Assert.Equal(hash, policy.Compute(next, out var again));
        Assert.Null(again);
    }

    [Fact]
    public void Compute_CookieAbsentWithZeroTtl_GeneratesASessionCookie()
    {
        var policy = new HashPolicy(new ConsistentHash { HttpCookie = new HashCookie { Name = "s", Ttl = TimeSpan.Zero } });

        policy.Compute(Context(), out var setCookie);

        Assert.Matches("^s=\"[0-9a-f]{16}\"; HttpOnly$", setCookie);
    }

    [Fact]
    public void Compute_CookieAbsentWithoutTtl_NoKeyAndNoCookie()
    {
        var policy = new HashPolicy(new ConsistentHash { HttpCookie = new HashCookie { Name = "s" } });

        Assert.Null(policy.Compute(Context(), out var setCookie));
        Assert.Null(setCookie);
    }

    [Fact]
    public void Compute_SourceIpAndQueryParameter_HashTheirValues()
    {
        var context = Context();
        context.Request.QueryString = new QueryString("?user=ann&user=bob");

        Assert.Equal(XxHash64.Hash("192.0.2.7".AsSpan()), new HashPolicy(new ConsistentHash { UseSourceIp = true }).Compute(context, out _));
        Assert.Equal(XxHash64.Hash("ann".AsSpan()), new HashPolicy(new ConsistentHash { HttpQueryParameterName = "user" }).Compute(context, out _));
    }

    [Theory]
    [InlineData(65536)]
    [InlineData(0)]
    public void Compile_MaglevTableSizeNotPrime_Rejected(long size)
    {
        var cluster = ClusterOf(2, new LoadBalancer { ConsistentHash = new ConsistentHash { UseSourceIp = true, Algorithm = ConsistentHashAlgorithm.Maglev, TableSize = size } });

        Assert.Throws<ConfigException>(() => ConfigCompiler.Compile(new ProxyConfig { Clusters = [cluster] }));
    }

    [Fact]
    public void Compile_ConsistentHashWithTwoKeys_Rejected()
    {
        var cluster = ClusterOf(2, new LoadBalancer { ConsistentHash = new ConsistentHash { UseSourceIp = true, HttpHeaderName = "x" } });

        Assert.Throws<ConfigException>(() => ConfigCompiler.Compile(new ProxyConfig { Clusters = [cluster] }));
    }

    private static DefaultHttpContext Context()
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse("192.0.2.7");
        context.Connection.RemotePort = 40000;
        context.Connection.LocalIpAddress = IPAddress.Loopback;
        context.Connection.LocalPort = 15001;
        return context;
    }
}
