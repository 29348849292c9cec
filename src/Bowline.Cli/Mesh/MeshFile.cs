using System.Text.Json;

namespace Bowline.Cli.Mesh;

internal static class MeshFile
{
    /// <summary>The mesh.json of a live <c>bowline up</c>, or null (missing, unreadable, or its pid is gone).</summary>
    public static MeshInfo? ReadLive(BowlineHome home)
    {
        MeshInfo? info;
        try
        {
            info = JsonSerializer.Deserialize(File.ReadAllBytes(home.MeshFile), CliJson.Default.MeshInfo);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
        return info is not null && IsAlive(info.Pid) ? info : null;
    }

    public static void Write(BowlineHome home, MeshInfo info)
    {
        Directory.CreateDirectory(home.Root);
        var tmp = home.MeshFile + ".tmp";
        File.WriteAllBytes(tmp, JsonSerializer.SerializeToUtf8Bytes(info, CliJson.Default.MeshInfo));
        File.Move(tmp, home.MeshFile, overwrite: true);
    }

    /// <summary>Deletes mesh.json only if it still names <paramref name="pid"/> (never another up's file).</summary>
    public static void DeleteIfOwned(BowlineHome home, int pid)
    {
        try
        {
            var info = JsonSerializer.Deserialize(File.ReadAllBytes(home.MeshFile), CliJson.Default.MeshInfo);
            if (info?.Pid == pid)
            {
                File.Delete(home.MeshFile);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            // Nothing of ours to delete.
        }
    }

    /// <summary>
    /// Alive, not a zombie awaiting its reaper, and still a bowline process (a recycled pid is someone else's).
    /// </summary>
    private static bool IsAlive(int pid)
    {
        if (pid == Environment.ProcessId)
        {
            return true;
        }
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0];
            return state is not ("Z" or "X") && File.ReadAllText($"/proc/{pid}/cmdline").Contains("bowline", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
            return false;
        }
    }
}
