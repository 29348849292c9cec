using System.Runtime.InteropServices;

namespace Bowline.EndToEnd.Tests.Infrastructure;

internal static partial class Signals
{
    public const int SigTerm = 15;
    public const int SigKill = 9;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    public static void Send(int pid, int signal) => _ = Kill(pid, signal);

    public static bool IsAlive(int pid) => Kill(pid, 0) == 0;
}
