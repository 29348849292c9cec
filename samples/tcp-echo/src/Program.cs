using System.Collections;
using System.Net;
using System.Net.Sockets;
using System.Text;

// tcp-echo: answers each line read with "<prefix> <line>", on every port it is given; closes after the client's EOF.
var prefix = args.Length > 0 ? args[0] : "hello";
var ports = Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
    .Where(e => ((string)e.Key).StartsWith("PORT_", StringComparison.Ordinal))
    .Select(e => int.Parse((string)e.Value!, System.Globalization.CultureInfo.InvariantCulture))
    .DefaultIfEmpty(int.Parse(Environment.GetEnvironmentVariable("PORT") ?? "9000", System.Globalization.CultureInfo.InvariantCulture))
    .Distinct()
    .ToList();

var listeners = ports.Select(port =>
{
    var listener = new TcpListener(IPAddress.Loopback, port);
    listener.Start(512);
    Console.WriteLine($"tcp-echo {prefix}: listening on 127.0.0.1:{port}");
    return ServeAsync(listener);
}).ToList();
await Task.WhenAll(listeners);

async Task ServeAsync(TcpListener listener)
{
    while (true)
    {
        var client = await listener.AcceptTcpClientAsync();
        _ = HandleAsync(client);
    }
}

async Task HandleAsync(TcpClient client)
{
    using (client)
    {
        try
        {
            var stream = client.GetStream();
            using var reader = new StreamReader(stream, Encoding.UTF8, leaveOpen: true);
            await using var writer = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true) { NewLine = "\n", AutoFlush = true };
            while (await reader.ReadLineAsync() is { } line)
            {
                await writer.WriteLineAsync($"{prefix} {line}");
            }
        }
        catch (IOException)
        {
            // The client reset the connection; nothing to answer.
        }
    }
}
