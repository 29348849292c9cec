using Bowline.Cli;

return await CliApp.RunAsync(args, CliContext.FromEnvironment());
