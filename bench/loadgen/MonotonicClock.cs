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

    [LibraryImport("libc", EntryPoint = "prctl")]
    private static partial int Prctl(int option, nuint value, nuint arg3, nuint arg4, nuint arg5);

    private const int PrSetTimerSlack = 29;

    /// <summary>
    /// Lets the calling thread's sleeps end on time: Linux may defer a normal thread's timer by its slack (50 µs by
    /// default) to batch wake-ups, and that lateness would be charged to every request as latency.
    /// </summary>
    public static void MinimizeTimerSlack()
    {
        if (Prctl(PrSetTimerSlack, 1, 0, 0, 0) != 0)
        {
            throw new InvalidOperationException("prctl(PR_SET_TIMERSLACK) failed");
        }
    }

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
