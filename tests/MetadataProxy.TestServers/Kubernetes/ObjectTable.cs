using k8s;
using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>Objects of one kind, stamped on every write the way the API server does (uid, resourceVersion,
/// creationTimestamp, kind/apiVersion). Stored instances are never mutated: an update stores a new copy, so
/// a reference read from the table is a stable snapshot. Not thread-safe: the owner holds its lock.</summary>
internal sealed class ObjectTable<T>(string kind, string resource, ResourceVersionCounter counter, Func<DateTimeOffset> now, string apiVersion = "v1")
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly Dictionary<string, T> _items = new(StringComparer.Ordinal);

    public string Resource => resource;

    public IEnumerable<T> Items => _items.Values;

    public T? Find(string? ns, string name) => _items.GetValueOrDefault(KubeObjects.Key(ns, name));

    public T Add(T value)
    {
        var item = KubeObjects.Clone(value);
        var meta = item.Metadata ?? throw new ArgumentException($"{kind} needs metadata.name", nameof(value));
        if (string.IsNullOrEmpty(meta.Name))
        {
            throw new ArgumentException($"{kind} needs metadata.name", nameof(value));
        }

        var key = KubeObjects.Key(meta.NamespaceProperty, meta.Name);
        if (_items.ContainsKey(key))
        {
            throw new InvalidOperationException($"{resource} \"{meta.Name}\" already exists");
        }

        item.Kind = kind;
        item.ApiVersion = apiVersion;
        meta.Uid ??= Guid.NewGuid().ToString();
        meta.CreationTimestamp ??= KubeObjects.Seconds(now());
        meta.ResourceVersion = KubeObjects.Format(counter.Next());
        _items[key] = item;
        return item;
    }

    public (T Before, T After) Update(string? ns, string name, Action<T> mutate)
    {
        var before = Find(ns, name) ?? throw new InvalidOperationException($"{resource} \"{name}\" not found");
        var after = KubeObjects.Clone(before);
        mutate(after);

        // Identity is not the caller's to change.
        after.Kind = before.Kind;
        after.ApiVersion = before.ApiVersion;
        after.Metadata ??= new V1ObjectMeta();
        after.Metadata.Name = before.Metadata.Name;
        after.Metadata.NamespaceProperty = before.Metadata.NamespaceProperty;
        after.Metadata.Uid = before.Metadata.Uid;
        after.Metadata.CreationTimestamp = before.Metadata.CreationTimestamp;
        after.Metadata.ResourceVersion = KubeObjects.Format(counter.Next());
        _items[KubeObjects.Key(ns, name)] = after;
        return (before, after);
    }

    /// <summary>Removes the object; returns its final state carrying the deletion's resourceVersion.</summary>
    public T Delete(string? ns, string name)
    {
        var key = KubeObjects.Key(ns, name);
        if (!_items.Remove(key, out var before))
        {
            throw new InvalidOperationException($"{resource} \"{name}\" not found");
        }

        var final = KubeObjects.Clone(before);
        final.Metadata.ResourceVersion = KubeObjects.Format(counter.Next());
        return final;
    }
}
