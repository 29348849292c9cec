using Bowline.Api.Management;

namespace Bowline.ControlPlane.Config;

/// <summary>What an apply or delete did: the API's result plus whether it was refused (400).</summary>
internal sealed record ApplyOutcome(bool Refused, ApplyResult Result);
