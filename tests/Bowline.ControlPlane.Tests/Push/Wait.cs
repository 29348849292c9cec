namespace Bowline.ControlPlane.Tests.Push;

internal static class Wait
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    /// <summary>Polls until the condition holds; fails with <paramref name="what"/> at the deadline.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var end = DateTime.UtcNow + Deadline;
        while (!await condition())
        {
            if (DateTime.UtcNow > end)
            {
                Assert.Fail($"timed out waiting for {what}");
            }

            await Task.Delay(20);
        }
    }

    public static Task UntilAsync(Func<bool> condition, string what) => UntilAsync(() => Task.FromResult(condition()), what);
}
