using System.Net.WebSockets;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace GrpcDemo;

/// <summary>demo.Greeter over h2c (see greeter.proto) and a WebSocket echo at /echo.</summary>
internal static class Greeter
{
    public static void Map(WebApplication app)
    {
        app.UseWebSockets();
        app.MapPost("/demo.Greeter/Say", SayAsync);
        app.MapPost("/demo.Greeter/Count", CountAsync);
        app.MapPost("/demo.Greeter/Echo", EchoAsync);
        app.MapPost("/{**method}", (HttpContext context) => TrailersOnly(context, 12, "unknown method"));
        app.Map("/echo", WebSocketEchoAsync);
    }

    private static async Task SayAsync(HttpContext context)
    {
        var name = Wire.ParseText(await Wire.ReadAsync(context.Request.Body) ?? []);
        if (name == "fail")
        {
            TrailersOnly(context, 5, "no greeting for fail");
            return;
        }

        context.Response.ContentType = Wire.ContentType;
        await context.Response.Body.WriteAsync(Wire.Text($"hello {name}"));
        context.Response.AppendTrailer("grpc-status", "0");
    }

    private static async Task CountAsync(HttpContext context)
    {
        var to = Wire.ParseNumber(await Wire.ReadAsync(context.Request.Body) ?? []);
        await StartStreamAsync(context);
        for (var i = 1; i <= to; i++)
        {
            await context.Response.Body.WriteAsync(Wire.Number(i));
            await context.Response.Body.FlushAsync();
            // A pace a human can watch: each number is on the wire before the next is produced.
            await Task.Delay(100, context.RequestAborted);
        }

        context.Response.AppendTrailer("grpc-status", "0");
    }

    private static async Task EchoAsync(HttpContext context)
    {
        await StartStreamAsync(context);
        while (await Wire.ReadAsync(context.Request.Body) is { } message)
        {
            await context.Response.Body.WriteAsync(Wire.Text(Wire.ParseText(message)));
            await context.Response.Body.FlushAsync();
        }

        context.Response.AppendTrailer("grpc-status", "0");
    }

    private static async Task StartStreamAsync(HttpContext context)
    {
        // A client stream may pause between messages; Kestrel's minimum body rate would cut it (grpc-dotnet lifts it too).
        if (context.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } rate)
        {
            rate.MinDataRate = null;
        }

        context.Response.ContentType = Wire.ContentType;
        await context.Response.StartAsync();
        await context.Response.Body.FlushAsync();
    }

    private static void TrailersOnly(HttpContext context, int status, string message)
    {
        context.Response.ContentType = Wire.ContentType;
        context.Response.Headers["grpc-status"] = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.Headers["grpc-message"] = Uri.EscapeDataString(message);
    }

    private static async Task WebSocketEchoAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("WebSocket only\n");
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                if (length == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }

                result = await socket.ReceiveAsync(buffer.AsMemory(length), context.RequestAborted);
                length += result.Count;
            }
            while (!result.EndOfMessage);

            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", context.RequestAborted);
                return;
            }

            await socket.SendAsync(buffer.AsMemory(0, length), result.MessageType, true, context.RequestAborted);
        }
    }
}
