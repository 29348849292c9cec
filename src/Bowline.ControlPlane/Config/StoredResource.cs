using Bowline.Api.Resources;

namespace Bowline.ControlPlane.Config;

/// <summary>
/// One resource in the store: the typed object, the document's original YAML (what gets persisted), where the user
/// wrote it (for messages), and its creation sequence — Istio breaks ties between conflicting resources by creation
/// order, and the sequence survives restarts so generated versions do too.
/// </summary>
internal sealed record StoredResource(ResourceKey Id, Resource Resource, string Yaml, string File, int Line, long Sequence);
