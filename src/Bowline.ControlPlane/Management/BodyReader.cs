using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Bowline.ControlPlane.Management;

/// <summary>Reads a bounded JSON body: too large → 413, malformed → 400, never an exception to the caller.</summary>
internal static class BodyReader
{
    public const long MaxBytes = 16L * 1024 * 1024;

    public static async Task<(T? Value, int Status, string? Error)> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> type, CancellationToken ct)
    {
        if (request.ContentLength > MaxBytes)
        {
            return (default, StatusCodes.Status413PayloadTooLarge, $"request body larger than {MaxBytes} bytes");
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int n;
        while ((n = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + n > MaxBytes)
            {
                return (default, StatusCodes.Status413PayloadTooLarge, $"request body larger than {MaxBytes} bytes");
            }

            buffer.Write(chunk, 0, n);
        }

        try
        {
            var value = JsonSerializer.Deserialize(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), type);
            return value is null
                ? (default, StatusCodes.Status400BadRequest, "malformed request body: expected a JSON object")
                : (value, StatusCodes.Status200OK, null);
        }
        catch (JsonException e)
        {
            return (default, StatusCodes.Status400BadRequest, $"malformed request body: {e.Message}");
        }
    }
}
