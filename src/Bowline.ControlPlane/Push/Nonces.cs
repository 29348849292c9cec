using System.Globalization;

namespace Bowline.ControlPlane.Push;

/// <summary>Nonces unique across control-plane restarts (a random prefix), so a proxy's answer to a response of an
/// earlier incarnation can never be taken for an answer to a current one.</summary>
internal static class Nonces
{
    private static readonly string Prefix = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));
    private static long _counter;

    public static string Next() => string.Create(CultureInfo.InvariantCulture, $"{Prefix}-{Interlocked.Increment(ref _counter)}");
}
