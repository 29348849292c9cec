using System.Net;
using Bowline.Api.Xds;
using Bowline.Proxy.Pipeline;
using Bowline.Proxy.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using static Bowline.Proxy.Tests.Infrastructure.Configs;

namespace Bowline.Proxy.Tests;

/// <summary>DestinationRule policies on real sockets: circuit breaking, outlier ejection, consistent hashing.</summary>
public sealed class TrafficPolicyForwardingTests
{
    private static ProxyConfig Inbound(Cluster cluster) => ConfigOf([Configs.Inbound("in", cluster.Name)], [], [cluster]);

    [Fact]
    public async Task Forward_IstioCircuitBreakerThreeConcurrentClients_OneOverflows503UOTheOthers200()
    {
        // Istio's circuit-breaking task: maxConnections 1, http1MaxPendingRequests 1, maxRequestsPerConnection 1.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var arrived = 0;
        await using var app = await TestBackend.StartAsync("httpbin", handler: async c =>
        {
            Interlocked.Increment(ref arrived);
            await gate.Task.WaitAsync(c.RequestAborted);
            await c.Response.WriteAsync("ok");
        });
        await using var proxy = new ProxyUnderTest();
        var cluster = Cluster("httpbin", app.Port) with
        {
            ConnectionPool = new ConnectionPool { MaxConnections = 1, MaxPendingRequests = 1, MaxRequestsPerConnection = 1 },
        };
        await proxy.ApplyAsync(Inbound(cluster));
        var breaker = proxy.Manager.Current!.ListenersByServer.Values.Single().Cluster!.CircuitBreaker!;
        using var client = Clients.Direct();
        var uri = proxy.ListenerUri("in");

        Task<HttpResponseMessage> Send(string id)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.Add("x-test-id", id);
            return client.SendAsync(request);
        }

        var first = Send("1");
        await Polling.UntilAsync(() => Volatile.Read(ref arrived) == 1);
        var second = Send("2");
        await Polling.UntilAsync(() => breaker.ActiveRequests == 2);
        using var third = await Send("3");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, third.StatusCode);
        Assert.Equal("upstream connect error or disconnect/reset before headers. reset reason: overflow", await third.Content.ReadAsStringAsync());
        Assert.Equal(ResponseFlags.UpstreamOverflow, await proxy.FlagsOfAsync("3"));
        Assert.Equal("UO", ResponseFlags.UpstreamOverflow.ToShortString());
        // The pending request waits for the one connection: it has not reached the app.
        Assert.Equal(1, Volatile.Read(ref arrived));

        gate.SetResult();
        using var r1 = await first;
        using var r2 = await second;
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (r1.StatusCode, r2.StatusCode));
        Assert.Equal(1, proxy.Manager.Stats.Find("httpbin")!.Overflows);
        await Polling.UntilAsync(() => breaker.ActiveRequests == 0);
    }

    [Fact]
    public async Task Forward_MaxRequestsPerConnectionOne_EachRequestOnItsOwnConnection()
    {
        var connections = new System.Collections.Concurrent.ConcurrentDictionary<string, bool>();
        await using var app = await TestBackend.StartAsync("app", handler: c =>
        {
            connections[c.Connection.Id] = true;
            return c.Response.WriteAsync("ok");
        });
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(Inbound(Cluster("app", app.Port) with { ConnectionPool = new ConnectionPool { MaxRequestsPerConnection = 1 } }));
        using var client = Clients.Direct();

        for (var i = 0; i < 3; i++)
        {
            using var response = await client.GetAsync(proxy.ListenerUri("in"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(3, connections.Count);
    }

    [Fact]
    public async Task Forward_MaxRequestsInFlight_OverflowsBeyondIt()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var app = await TestBackend.StartAsync("app", handler: async c =>
        {
            await gate.Task.WaitAsync(c.RequestAborted);
            await c.Response.WriteAsync("ok");
        });
        await using var proxy = new ProxyUnderTest();
        await proxy.ApplyAsync(Inbound(Cluster("app", app.Port) with { ConnectionPool = new ConnectionPool { MaxRequests = 2 } }));
        var breaker = proxy.Manager.Current!.ListenersByServer.Values.Single().Cluster!.CircuitBreaker!;
        using var client = Clients.Direct();

        var held = new[] { client.GetAsync(proxy.ListenerUri("in")), client.GetAsync(proxy.ListenerUri("in")) };
        await Polling.UntilAsync(() => breaker.ActiveRequests == 2);
        using var overflow = await client.GetAsync(proxy.ListenerUri("in"));
        gate.SetResult();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, overflow.StatusCode);
        foreach (var response in await Task.WhenAll(held))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            response.Dispose();
        }
    }

    [Fact]
    public async Task Forward_EndpointAnswering500s_EjectedThenBackAfterTheEjectionTime()
    {
        var failing = 1;
        await using var bad = await TestBackend.StartAsync("bad", handler: c =>
        {
            c.Response.StatusCode = Volatile.Read(ref failing) == 1 ? 500 : 200;
            return c.Response.WriteAsync("bad");
        });
        await using var good = await TestBackend.StartAsync("good");
        var time = new ManualTimeProvider();
        await using var proxy = new ProxyUnderTest(time: time);
        var cluster = Cluster("app", bad.Port, good.Port) with
        {
            OutlierDetection = new OutlierDetection { Consecutive5xxErrors = 3, MaxEjectionPercent = 100 },
        };
        await proxy.ApplyAsync(Inbound(cluster));
        using var client = Clients.Direct();

        async Task<string> Call()
        {
            using var response = await client.GetAsync(proxy.ListenerUri("in"));
            return response.Headers.GetValues("x-backend").Single();
        }

        // Round robin: the third 500 from "bad" ejects it.
        var before = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            before.Add(await Call());
        }

        Assert.Equal(3, before.Count(b => b == "bad"));
        var whileEjected = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            whileEjected.Add(await Call());
        }

        Assert.All(whileEjected, b => Assert.Equal("good", b));
        Assert.Equal(1, proxy.Manager.Stats.Find("app")!.Ejections);

        Volatile.Write(ref failing, 0);
        for (var i = 0; i < 3; i++)
        {
            time.Advance(TimeSpan.FromSeconds(10));
        }

        var after = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            after.Add(await Call());
        }

        Assert.Equal(5, after.Count(b => b == "bad"));
    }

    [Fact]
    public async Task Forward_ConsistentHashByHeader_KeepsAUserOnOneEndpoint()
    {
        var backends = new List<TestBackend>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                backends.Add(await TestBackend.StartAsync($"b{i}"));
            }

            await using var proxy = new ProxyUnderTest();
            var cluster = Cluster("app", [.. backends.Select(b => b.Port)]) with
            {
                LoadBalancer = new LoadBalancer { ConsistentHash = new ConsistentHash { HttpHeaderName = "x-user" } },
            };
            await proxy.ApplyAsync(Inbound(cluster));
            using var client = Clients.Direct();

            async Task<string> Call(string user)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, proxy.ListenerUri("in"));
                request.Headers.Add("x-user", user);
                using var response = await client.SendAsync(request);
                return response.Headers.GetValues("x-backend").Single();
            }

            var seen = new HashSet<string>();
            for (var i = 0; i < 1000; i++)
            {
                seen.Add(await Call("jason"));
            }

            Assert.Single(seen);
            var users = new HashSet<string>();
            for (var i = 0; i < 40; i++)
            {
                users.Add(await Call($"user-{i}"));
            }

            Assert.True(users.Count >= 3, $"40 users landed on {users.Count} endpoints");
        }
        finally
        {
            foreach (var backend in backends)
            {
                await backend.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Forward_HashCookieWithTtlAbsent_SetCookieOnTheResponseAndStickyAfterwards()
    {
        await using var a = await TestBackend.StartAsync("a");
        await using var b = await TestBackend.StartAsync("b");
        await using var proxy = new ProxyUnderTest();
        var cluster = Cluster("app", a.Port, b.Port) with
        {
            LoadBalancer = new LoadBalancer
            {
                ConsistentHash = new ConsistentHash { HttpCookie = new HashCookie { Name = "user", Path = "/", Ttl = TimeSpan.FromSeconds(60) } },
            },
        };
        await proxy.ApplyAsync(Inbound(cluster));
        using var client = Clients.Direct();

        using var first = await client.GetAsync(proxy.ListenerUri("in"));
        var setCookie = Assert.Single(first.Headers.GetValues("set-cookie"));
        Assert.Matches("^user=\"[0-9a-f]{16}\"; Max-Age=60; Path=/; HttpOnly$", setCookie);
        var cookie = setCookie[..setCookie.IndexOf(';', StringComparison.Ordinal)];
        var backend = first.Headers.GetValues("x-backend").Single();

        for (var i = 0; i < 20; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, proxy.ListenerUri("in"));
            request.Headers.Add("Cookie", cookie);
            using var response = await client.SendAsync(request);
            Assert.Equal(backend, response.Headers.GetValues("x-backend").Single());
            Assert.False(response.Headers.Contains("set-cookie"));
        }
    }
}
