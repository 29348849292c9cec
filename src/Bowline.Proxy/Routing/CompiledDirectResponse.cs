using System.Text;
using Bowline.Api.Xds;
using Bowline.Proxy.Config;

namespace Bowline.Proxy.Routing;

/// <summary>A route's fixed answer, its body encoded once at config time.</summary>
internal sealed class CompiledDirectResponse(int status, byte[] body)
{
    public int Status { get; } = status;
    public byte[] Body { get; } = body;

    /// <exception cref="ConfigException">Bad status, both bodies, or bytes that are not base64.</exception>
    public static CompiledDirectResponse? Compile(DirectResponseAction? action, string where)
    {
        if (action is null)
        {
            return null;
        }

        if (action.Status is < 200 or > 599)
        {
            throw new ConfigException($"{where}: direct response status {action.Status} is out of range 200-599");
        }

        if (action.Body is not null && action.BodyBase64 is not null)
        {
            throw new ConfigException($"{where}: direct response sets both body and bodyBase64");
        }

        byte[] body;
        try
        {
            body = action.BodyBase64 is { } b64 ? Convert.FromBase64String(b64) : Encoding.UTF8.GetBytes(action.Body ?? "");
        }
        catch (FormatException)
        {
            throw new ConfigException($"{where}: direct response bodyBase64 is not base64");
        }

        return new CompiledDirectResponse(action.Status, body);
    }
}
