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

await using var app = await ControlPlaneHost.StartAsync(options);
app.Logger.Listening(options.Listen.ToString(), options.StateDir);
await app.WaitForShutdownAsync();
return 0;
