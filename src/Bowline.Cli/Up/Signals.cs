using System.Runtime.InteropServices;

namespace Bowline.Cli.Up;

/// <summary>kill(2) on process groups, which <see cref="System.Diagnostics.Process"/> cannot do.</summary>
internal static partial class Signals
{
    public const int Term = 15;
    public const int Kill = 9;

    /// <summary>Sends <paramref name="signal"/> to every process in the group; false if the group has no process left.</summary>
    public static bool SendToGroup(int processGroup, int signal) => kill(-processGroup, signal) == 0;

    public static bool Send(int pid, int signal) => kill(pid, signal) == 0;

    /// <summary>Whether any process (zombies included) is still in the group.</summary>
    public static bool GroupExists(int processGroup) => kill(-processGroup, 0) == 0;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
