namespace Bowline.Proxy.Config;

/// <summary>A pushed config that is internally inconsistent; the message becomes the NACK's error detail.</summary>
internal sealed class ConfigException(string message) : Exception(message);
