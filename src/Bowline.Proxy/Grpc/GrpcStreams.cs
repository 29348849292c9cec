using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Bowline.Proxy.Grpc;

internal static class GrpcStreams
{
    /// <summary>No minimum body data rate for this request: its client may pause between messages.</summary>
    public static void AllowQuietRequestBody(HttpContext context)
    {
        if (context.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } rate)
        {
            rate.MinDataRate = null;
        }
    }
}
