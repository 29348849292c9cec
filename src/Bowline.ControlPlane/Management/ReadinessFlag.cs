namespace Bowline.ControlPlane.Management;

/// <summary>Set once the store and the registry are loaded (GET /healthz/ready).</summary>
internal sealed class ReadinessFlag
{
    private volatile bool _ready;

    public bool IsReady => _ready;

    public void Set() => _ready = true;
}
