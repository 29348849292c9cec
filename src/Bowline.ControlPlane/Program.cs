using Bowline.ControlPlane;

ControlPlaneOptions options;
try
{
    options = ControlPlaneOptions.Parse(args);
}
catch (ArgumentException e)
{
    await Console.Error.WriteLineAsync($"Bowline.ControlPlane: {e.Message}");
    await Console.Error.WriteLineAsync(ControlPlaneOptions.Usage);
    return 2;
}

await using var cp = await ControlPlaneHost.StartAsync(options);
cp.App.Logger.Listening(string.Join(", ", cp.App.Urls), options.StateDir);
await cp.App.WaitForShutdownAsync();
return 0;
