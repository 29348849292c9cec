using System.Collections.Immutable;
using Bowline.Api.Management;
using Bowline.Api.Resources;

namespace Bowline.ControlPlane.Config;

/// <summary>
/// The applied config. Readers take <see cref="Current"/> (an immutable snapshot swapped atomically) and never lock;
/// writers (apply/delete) are serialized, validate first, persist, then publish and raise <see cref="Changed"/>.
/// </summary>
internal sealed class ConfigStore(IConfigLoader loader, StoreFiles? files, ILogger<ConfigStore> log)
{
    private readonly Lock _writeLock = new();
    private ConfigSnapshot _current = ConfigSnapshot.Empty;

    public ConfigSnapshot Current => Volatile.Read(ref _current);

    /// <summary>Raised after every change that was published (not for "unchanged" applies).</summary>
    public event Action? Changed;

    /// <summary>Loads the persisted store (start-up). Unreadable documents are logged and skipped, not fatal.</summary>
    public void Load()
    {
        if (files is null)
        {
            return;
        }

        lock (_writeLock)
        {
            var b = ImmutableSortedDictionary.CreateBuilder<ResourceKey, StoredResource>(ResourceKeys.Order);
            foreach (var (seq, path, file, line) in files.ReadAll())
            {
                var parsed = loader.Parse([file]);
                if (parsed.Errors.Count > 0 || parsed.Documents.Count != 1)
                {
                    log.StoreSkipped(path, parsed.Errors.Count > 0 ? parsed.Errors[0] : $"{parsed.Documents.Count} documents");
                    continue;
                }

                var doc = parsed.Documents[0];
                var id = doc.Resource.Key();
                b[id] = new StoredResource(id, doc.Resource, doc.Yaml, file.Name, line, seq);
            }

            Volatile.Write(ref _current, new ConfigSnapshot(1, b.ToImmutable()));
            log.StoreLoaded(b.Count, files.Directory);
        }
    }

    public ApplyOutcome Apply(IReadOnlyList<ConfigFile> input)
    {
        var loaded = loader.Validate(input);
        if (loaded.Errors.Count > 0)
        {
            log.Refused("apply", loaded.Errors.Count);
            return new ApplyOutcome(true, new ApplyResult { Errors = [.. loaded.Errors], Warnings = [.. loaded.Warnings] });
        }

        lock (_writeLock)
        {
            var old = Current;
            var next = old.Resources.ToBuilder();
            var nextSeq = old.Resources.Values.Select(r => r.Sequence).DefaultIfEmpty(0).Max();
            var changes = new List<string>();
            var written = new Dictionary<ResourceKey, StoredResource>();
            foreach (var doc in loaded.Documents)
            {
                var id = doc.Resource.Key();
                if (next.TryGetValue(id, out var existing))
                {
                    if (ResourceComparer.SameObject(existing.Resource, doc.Resource))
                    {
                        changes.Add($"{id.KubectlName()} unchanged");
                        continue;
                    }

                    next[id] = written[id] = existing with { Resource = doc.Resource, Yaml = doc.Yaml, File = doc.File, Line = doc.Line };
                    changes.Add($"{id.KubectlName()} configured");
                }
                else
                {
                    next[id] = written[id] = new StoredResource(id, doc.Resource, doc.Yaml, doc.File, doc.Line, ++nextSeq);
                    changes.Add($"{id.KubectlName()} created");
                }
            }

            var snapshot = written.Count == 0 ? old : new ConfigSnapshot(old.Generation + 1, next.ToImmutable());
            var warnings = loaded.Warnings.Concat(NewFindings(old, snapshot, input)).Distinct().ToImmutableArray();
            if (written.Count > 0)
            {
                foreach (var r in written.Values)
                {
                    files?.Write(r);
                }

                Publish(snapshot);
            }

            log.Applied(written.Count, loaded.Documents.Count - written.Count, snapshot.Generation);
            return new ApplyOutcome(false, new ApplyResult { Changes = [.. changes], Warnings = warnings });
        }
    }

    public ApplyOutcome Delete(IReadOnlyList<ConfigFile> input)
    {
        var loaded = loader.Parse(input);
        if (loaded.Errors.Count > 0)
        {
            log.Refused("delete", loaded.Errors.Count);
            return new ApplyOutcome(true, new ApplyResult { Errors = [.. loaded.Errors], Warnings = [.. loaded.Warnings] });
        }

        lock (_writeLock)
        {
            var old = Current;
            var next = old.Resources.ToBuilder();
            var changes = new List<string>();
            var warnings = new List<string>(loaded.Warnings);
            var removed = new List<StoredResource>();
            foreach (var doc in loaded.Documents)
            {
                var id = doc.Resource.Key();
                if (next.TryGetValue(id, out var existing))
                {
                    next.Remove(id);
                    removed.Add(existing);
                    changes.Add($"{id.KubectlName()} deleted");
                }
                else
                {
                    warnings.Add($"{doc.File}:{doc.Line}: {id.KubectlName()} not found");
                }
            }

            var snapshot = old;
            if (removed.Count > 0)
            {
                snapshot = new ConfigSnapshot(old.Generation + 1, next.ToImmutable());
                warnings.AddRange(NewFindings(old, snapshot, input));
                foreach (var r in removed)
                {
                    files?.Remove(r);
                }

                Publish(snapshot);
            }

            log.Deleted(removed.Count, loaded.Documents.Count - removed.Count, snapshot.Generation);
            return new ApplyOutcome(false, new ApplyResult { Changes = [.. changes], Warnings = [.. warnings.Distinct()] });
        }
    }

    private void Publish(ConfigSnapshot snapshot)
    {
        Volatile.Write(ref _current, snapshot);
        Changed?.Invoke();
    }

    /// <summary>
    /// The analyzer's findings that concern this request: those in the files just applied, plus any the change newly
    /// caused elsewhere (deleting a subset that a stored VirtualService still routes to).
    /// </summary>
    private IEnumerable<string> NewFindings(ConfigSnapshot before, ConfigSnapshot after, IReadOnlyList<ConfigFile> input)
    {
        var applied = input.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        var old = ReferenceEquals(before, after)
            ? []
            : loader.Analyze(before.InCreationOrder()).Select(f => f.Text).ToHashSet(StringComparer.Ordinal);
        return loader.Analyze(after.InCreationOrder())
            .Where(f => applied.Contains(f.File) || (!ReferenceEquals(before, after) && !old.Contains(f.Text)))
            .Select(f => f.Text);
    }
}
