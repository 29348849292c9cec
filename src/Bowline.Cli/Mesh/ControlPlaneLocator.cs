namespace Bowline.Cli.Mesh;

/// <summary>Which control plane a command talks to: <c>--control-plane URL</c>, else the running mesh's mesh.json.</summary>
internal static class ControlPlaneLocator
{
    public static Uri? Locate(string? option, CliContext context)
    {
        if (!string.IsNullOrEmpty(option))
        {
            if (Uri.TryCreate(option, UriKind.Absolute, out var explicitUri) && explicitUri.Scheme is "http" or "https")
            {
                return explicitUri;
            }
            context.Error.WriteLine($"error: --control-plane {option}: not an http(s) URL");
            return null;
        }
        var mesh = MeshFile.ReadLive(context.Home);
        if (mesh is null)
        {
            context.Error.WriteLine(
                $"error: no running mesh found ({context.Home.MeshFile} is missing or stale); start one with `bowline up DIR` or pass --control-plane URL");
            return null;
        }
        return new Uri(mesh.ControlPlane);
    }
}
