using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Bowline.Proxy.Tests.Http1;
using Bowline.Proxy.Tests.Infrastructure;

namespace Bowline.Proxy.Tests.Downstream;

/// <summary>
/// A proxy listener in front of a <see cref="RawUpstream"/> that records every request it gets with its decoded body.
/// By default the upstream answers 200 with "target|body length" so a client can tell which request an answer belongs to.
/// </summary>
internal sealed class DownstreamRig : IAsyncDisposable
{
    private readonly ConcurrentQueue<Received> _received = new();
    private int _aborted;

    private DownstreamRig(Func<RawExchange, byte[], Task>? answer) =>
        Upstream = RawUpstream.Start(async e =>
        {
            byte[] body;
            try
            {
                body = await e.ReadBodyAsync();
            }
            catch (IOException)
            {
                // The proxy gave up on the request inside its body (the client left).
                Interlocked.Increment(ref _aborted);
                throw;
            }

            _received.Enqueue(new Received(e.Request, body));
            await (answer ?? Echo)(e, body);
        });

    public RawUpstream Upstream { get; }

    public ProxyUnderTest Proxy { get; private set; } = null!;

    public IPEndPoint Endpoint { get; private set; } = null!;

    /// <summary>Requests whose whole body reached the upstream, in arrival order.</summary>
    public IReadOnlyList<Received> Received => [.. _received];

    /// <summary>Requests the upstream saw begin but whose body the proxy never finished.</summary>
    public int Aborted => Volatile.Read(ref _aborted);

    /// <summary>An inbound listener (no routing by Host: every request goes to the upstream).</summary>
    public static Task<DownstreamRig> InboundAsync(Func<RawExchange, byte[], Task>? answer = null) => StartAsync(answer, outbound: false);

    /// <summary>
    /// An inbound listener whose cluster has connectionPool settings, so requests go upstream through HttpClient
    /// rather than Bowline's own HTTP/1.1 client.
    /// </summary>
    public static Task<DownstreamRig> InboundThroughHttpClientAsync(Func<RawExchange, byte[], Task>? answer = null) =>
        StartAsync(answer, outbound: false, httpClient: true);

    /// <summary>An outbound listener with one virtual host for every authority.</summary>
    public static Task<DownstreamRig> OutboundAsync(Func<RawExchange, byte[], Task>? answer = null) => StartAsync(answer, outbound: true);

    private static async Task<DownstreamRig> StartAsync(Func<RawExchange, byte[], Task>? answer, bool outbound, bool httpClient = false)
    {
        var rig = new DownstreamRig(answer);
        try
        {
            rig.Proxy = outbound ? await Http1Proxy.OutboundAsync(rig.Upstream.Port)
                : await Http1Proxy.InboundAsync(rig.Upstream.Port,
                    httpClient ? c => c with { ConnectionPool = new Bowline.Api.Xds.ConnectionPool { MaxConnections = 100 } } : null);
            rig.Endpoint = rig.Proxy.ListenerEndpoint(outbound ? "outbound" : Http1Proxy.Listener);
            return rig;
        }
        catch
        {
            await rig.DisposeAsync();
            throw;
        }
    }

    public static Task Echo(RawExchange e, byte[] body)
    {
        var target = e.Request.RequestLine.Split(' ')[1];
        var text = $"{target}|{body.Length}";
        return e.WriteAsync($"HTTP/1.1 200 OK\r\nContent-Length: {text.Length}\r\n\r\n{text}");
    }

    public Task<RawClient> ConnectAsync() => RawClient.ConnectAsync(Endpoint);

    /// <summary>The only request that reached the upstream.</summary>
    public Received Only() => Assert.Single(Received);

    public async ValueTask DisposeAsync()
    {
        if (Proxy is not null)
        {
            await Proxy.DisposeAsync();
        }

        await Upstream.DisposeAsync();
    }
}

/// <summary>A request as the upstream got it, with its body decoded from whatever framing the proxy chose.</summary>
internal sealed record Received(RawRequest Request, byte[] Body)
{
    public string BodyText => Encoding.Latin1.GetString(Body);

    public string Target => Request.RequestLine.Split(' ')[1];
}
