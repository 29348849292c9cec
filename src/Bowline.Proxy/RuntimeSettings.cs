namespace Bowline.Proxy;

/// <summary>
/// Runtime settings the proxy ships with that exist only as environment variables (the others are runtimeconfig
/// properties in Bowline.Proxy.csproj). Applied in-process before the first socket is created, so every proxy gets
/// them however it was started (bowline up, bench/run, by hand); a value already in the environment wins.
/// Measured in bench/README.md, "Tuning log".
/// </summary>
internal static class RuntimeSettings
{
    private const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// Socket completions run on the epoll thread instead of being queued to the thread pool: one wake-up and one
    /// hand-off less per read and write. Read by System.Net.Sockets once, when its first socket is created.
    /// </summary>
    public static bool InlineSocketCompletions => Environment.GetEnvironmentVariable(InlineCompletionsVariable) == "1";

    public static void Apply()
    {
        if (Environment.GetEnvironmentVariable(InlineCompletionsVariable) is null)
        {
            Environment.SetEnvironmentVariable(InlineCompletionsVariable, "1");
        }
    }
}
