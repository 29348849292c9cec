using System.Net;
using System.Net.Sockets;
using Bowline.Proxy.Config;
using Bowline.Proxy.Telemetry.Metrics;
using Bowline.Proxy.Listeners.Tls;
using Bowline.Proxy.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bowline.Proxy.Listeners;

/// <summary>
/// One Kestrel server for one listener, so listeners come and go at runtime independently. It knows only its id and
/// where it is bound; what it serves comes from the current snapshot per request.
/// </summary>
internal sealed class ListenerServer : IListenerServer
{
    private readonly KestrelServer _server;
    private readonly ListenerApplication _application;

    private readonly ConnectionCounters? _connections;

    /// <param name="connections">Counts this server's downstream connections (metrics); none when null.</param>
    /// <param name="tls">The listener's TLS settings now (read per connection); null: plaintext always.</param>
    public ListenerServer(int id, CompiledListener listener, ListenerApplication application, ILoggerFactory loggerFactory,
        ListenerLimits? limits = null, ConnectionCounters? connections = null, Func<CompiledTls?>? tls = null)
    {
        _connections = connections;
        Id = id;
        Name = listener.Name;
        Address = listener.Address;
        ConfiguredPort = listener.Port;
        _application = application;

        var options = new KestrelServerOptions
        {
            AddServerHeader = false,
            // Absolute-form targets (requests through HTTP_PROXY) name the authority that counts.
            AllowHostHeaderOverride = true,
            // h2c connections are made to look like TLS+ALPN "h2" to Kestrel (see H2cPriorKnowledge); their :scheme stays http.
            AllowAlternateSchemes = true,
        };
        // Sees the Connection and X-Content-Length values Kestrel changes before the request reaches the proxy.
        options.RequestHeaderEncodingSelector = Http1HeadCapture.SelectEncoding;
        // The proxy streams bodies of any size; the upstream decides what it accepts.
        options.Limits.MaxRequestBodySize = null;
        limits ??= ListenerLimits.Default;
        limits.ApplyTo(options.Limits);
        options.Listen(listener.Address, listener.Port, listen =>
        {
            listen.Protocols = HttpProtocols.Http1AndHttp2;
            if (connections is not null)
            {
                listen.Use(next => async connection =>
                {
                    connections.Opened();
                    try
                    {
                        await next(connection);
                    }
                    finally
                    {
                        connections.Closed();
                    }
                });
            }

            listen.Use(Http1HeadCapture.Scope);
            var logger = loggerFactory.CreateLogger<ListenerServer>();
            listen.Use(next => tls is null
                ? H2cPriorKnowledge.Detect(limits.RequestHeadersTimeout)(next)
                : TlsTermination.Wrap(next, tls, logger, limits.RequestHeadersTimeout));
        });

        // With inline socket completions (RuntimeSettings), run Kestrel's continuations on the epoll thread too: a
        // request is read, routed and handed to the upstream without a thread-pool hop. The pipeline never blocks.
        // No wait for data before each read: that wait is a zero-byte receive, which .NET on Linux makes a 1-byte
        // MSG_PEEK — one more syscall for every request on a keep-alive connection (5 instead of 4 per proxied
        // request, ~1.5 µs each on the bench VM). The price is a 4 KB pooled buffer held by each idle connection.
        // On Linux x64 the listeners run on Bowline's own event loops (Transport/), which read a socket only after
        // epoll reported it readable: two receive syscalls less per proxied request than System.Net's sockets.
        IConnectionListenerFactory transport = StreamSocket.UseEventLoop
            ? new LoopTransportFactory()
            : new SocketTransportFactory(Options.Create(new SocketTransportOptions
            {
                UnsafePreferInlineScheduling = RuntimeSettings.InlineSocketCompletions,
                WaitForDataBeforeAllocatingBuffer = false,
            }), loggerFactory);
        _server = new KestrelServer(Options.Create(options), transport, loggerFactory);
    }

    public int Id { get; }
    public string Name { get; set; }
    public IPAddress Address { get; }
    public int ConfiguredPort { get; }

    public bool IsTcp => false;

    /// <summary>The bound endpoint, known after <see cref="StartAsync"/>.</summary>
    public IPEndPoint? BoundEndpoint { get; private set; }

    /// <exception cref="IOException">Binding failed; the message is what a NACK should say.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _server.StartAsync(_application, cancellationToken);
        }
        catch (IOException e)
        {
            throw new IOException(BindFailureReason(e), e);
        }

        var address = _server.Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BoundEndpoint = new IPEndPoint(Address, new Uri(address).Port);
        if (_connections is not null)
        {
            _connections.Address = $"{BoundEndpoint.Address}_{BoundEndpoint.Port}";
        }
    }

    /// <summary>The root cause in words, without Kestrel's wrapping ("Failed to bind to address ...").</summary>
    private static string BindFailureReason(Exception e)
    {
        for (Exception? cause = e; cause is not null; cause = cause.InnerException)
        {
            if (cause is AddressInUseException or SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse })
            {
                return "address already in use";
            }

            if (cause.InnerException is null)
            {
                return cause.Message;
            }
        }

        return e.Message;
    }

    /// <summary>Stops accepting at once; in-flight requests get <paramref name="drain"/> to finish, then are aborted.</summary>
    public async Task StopAsync(TimeSpan drain)
    {
        using var cts = new CancellationTokenSource(drain);
        await _server.StopAsync(cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.Zero);
        _server.Dispose();
    }
}
