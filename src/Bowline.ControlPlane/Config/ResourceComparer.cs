using System.Text.Json;
using Bowline.Api.Resources;

namespace Bowline.ControlPlane.Config;

/// <summary>
/// "unchanged" as kubectl means it: the same object, whatever the formatting or comments of its YAML. Resource records
/// hold lists and dictionaries (reference equality), so objects are compared through their JSON form.
/// </summary>
internal static class ResourceComparer
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = false };

    public static bool SameObject(Resource a, Resource b) =>
        a.GetType() == b.GetType() &&
        JsonSerializer.Serialize(a, a.GetType(), Options) == JsonSerializer.Serialize(b, b.GetType(), Options);
}
