namespace Bowline.ControlPlane.Push;

/// <summary>What the control plane knows of one proxy's stream. Immutable: a session swaps in a new one per event.</summary>
internal sealed record ProxyState
{
    public bool Connected { get; init; }
    /// <summary>The version the proxy runs: what it last ACKed, or said it ran when it connected.</summary>
    public string? Acked { get; init; }
    /// <summary>The latest version computed (and sent, or queued, unless the proxy already ran it).</summary>
    public string? Latest { get; init; }
    public string? SentVersion { get; init; }
    public string? SentNonce { get; init; }
    public string? NackVersion { get; init; }
    public string? NackReason { get; init; }
    /// <summary>Config and registry generations of <see cref="Latest"/>: older computations never replace newer ones.</summary>
    public (long Config, long Registry) Stamp { get; init; }

    public string StateName =>
        !Connected ? "DISCONNECTED"
        : NackReason is not null && NackVersion == Latest ? "NACKED"
        : Acked is not null && Acked == Latest ? "SYNCED"
        : "STALE";
}
