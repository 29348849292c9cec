using System.Collections.Immutable;

namespace Bowline.ControlPlane.Generation;

/// <summary>
/// Domains already claimed in one route table: a domain may appear in only one virtual host (Envoy refuses
/// duplicates), and the first claimant wins.
/// </summary>
internal sealed class DomainSet
{
    private readonly HashSet<string> _claimed = new(StringComparer.OrdinalIgnoreCase);

    public ImmutableArray<string> Claim(IEnumerable<string> domains) =>
        [.. domains.Where(d => _claimed.Add(d))];
}
