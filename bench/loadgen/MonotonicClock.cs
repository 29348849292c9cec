using System.Runtime.InteropServices;

namespace Bowline.Bench.LoadGen;

/// <summary>
/// CLOCK_MONOTONIC in nanoseconds, and an absolute sleep on the same clock (clock_nanosleep, TIMER_ABSTIME): a
/// sender wakes within tens of microseconds of its due time, where Thread.Sleep/Task.Delay are millisecond-grained.
/// </summary>
internal static partial class MonotonicClock
{
    private const int ClockMonotonic = 1;
    private const int TimerAbsTime = 1;
    private const int EIntr = 4;

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out Timespec ts);

    [LibraryImport("libc", EntryPoint = "clock_nanosleep")]
    private static partial int ClockNanoSleep(int clock, int flags, in Timespec request, IntPtr remain);

    public static long NowNs()
    {
        _ = ClockGetTime(ClockMonotonic, out var ts);
        return (ts.Seconds * 1_000_000_000L) + ts.Nanoseconds;
    }

    public static void SleepUntil(long dueNs)
    {
        var ts = new Timespec { Seconds = dueNs / 1_000_000_000L, Nanoseconds = dueNs % 1_000_000_000L };
        while (ClockNanoSleep(ClockMonotonic, TimerAbsTime, ts, IntPtr.Zero) == EIntr)
        {
        }
    }
}
