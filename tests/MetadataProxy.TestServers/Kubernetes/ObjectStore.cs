using k8s;
using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>
/// A namespaced kind with the kube-apiserver's write rules (k8s.io/apiserver registry/generic): create answers 409
/// AlreadyExists for a taken name; update needs <c>metadata.resourceVersion</c> (422 without it) and answers 409 when it
/// is not the stored one; delete honours a UID precondition (409). <see cref="Interfere"/> plays another writer that
/// changes the object just before the next update(s) arrive, so they meet a real conflict.
/// </summary>
internal sealed class ObjectStore<T>(ObjectTable<T> table, string group, Func<T, string?>? validate = null)
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly Lock _gate = new();
    private int _interfere;
    private int _conflicts;
    private int _updates;

    public string Resource => table.Resource;

    /// <summary>Updates answered 409 so far.</summary>
    public int Conflicts => Volatile.Read(ref _conflicts);

    /// <summary>Updates stored so far.</summary>
    public int Updates => Volatile.Read(ref _updates);

    /// <summary>The next <paramref name="updates"/> updates find the object changed by someone else first.</summary>
    public void Interfere(int updates)
    {
        lock (_gate)
        {
            _interfere = updates;
        }
    }

    public T? Get(string ns, string name)
    {
        lock (_gate)
        {
            return table.Find(ns, name) is { } found ? KubeObjects.Clone(found) : null;
        }
    }

    public List<T> List(string? ns)
    {
        lock (_gate)
        {
            return [.. table.Items.Where(i => ns is null || i.Metadata.NamespaceProperty == ns).Select(KubeObjects.Clone)];
        }
    }

    public (T? Object, V1Status? Failure) Create(string ns, T value)
    {
        var name = value.Metadata?.Name ?? "";
        if (value.Metadata?.NamespaceProperty is { Length: > 0 } own && own != ns)
            return (null, KubeStatus.BadRequest("the namespace of the provided object does not match the namespace sent on the request"));
        if (name.Length == 0)
            return (null, KubeStatus.Invalid(group, value.Kind ?? "", "", "metadata.name", "\"\"", "name or generateName is required"));
        if (validate?.Invoke(value) is { } problem)
            return (null, KubeStatus.Invalid(group, value.Kind ?? "", name, "data", "", problem));
        lock (_gate)
        {
            if (table.Find(ns, name) is not null)
                return (null, KubeStatus.Failure(409, "AlreadyExists", $"{table.Resource} \"{name}\" already exists", new V1StatusDetails { Name = name, Kind = table.Resource }));
            value.Metadata!.NamespaceProperty = ns;
            value.Metadata.ResourceVersion = null;
            value.Metadata.Uid = null;
            value.Metadata.CreationTimestamp = null;
            return (KubeObjects.Clone(table.Add(value)), null);
        }
    }

    public (T? Object, V1Status? Failure) Update(string ns, string name, T value)
    {
        if (value.Metadata?.Name is { } given && given != name)
            return (null, KubeStatus.BadRequest("the name of the object does not match the name on the URL"));
        if (string.IsNullOrEmpty(value.Metadata?.ResourceVersion))
            return (null, KubeStatus.Invalid(group, value.Kind ?? "", name, "metadata.resourceVersion", "0x0", "must be specified for an update"));
        if (validate?.Invoke(value) is { } problem)
            return (null, KubeStatus.Invalid(group, value.Kind ?? "", name, "data", "", problem));
        lock (_gate)
        {
            if (table.Find(ns, name) is null)
                return (null, KubeStatus.NotFound(table.Resource, name));
            if (_interfere > 0)
            {
                _interfere--;
                table.Update(ns, name, other => (other.Metadata.Labels ??= new Dictionary<string, string>())["test.invalid/other-writer"] = Guid.NewGuid().ToString("N")[..8]);
            }

            var stored = table.Find(ns, name)!;
            if (stored.Metadata.ResourceVersion != value.Metadata!.ResourceVersion)
            {
                Interlocked.Increment(ref _conflicts);
                return (null, KubeStatus.Conflict(table.Resource, name, "the object has been modified; please apply your changes to the latest version and try again"));
            }

            var (_, after) = table.Update(ns, name, current =>
            {
                var replaced = KubeObjects.Clone(value);
                current.Metadata = replaced.Metadata;
                Copy(replaced, current);
            });
            Interlocked.Increment(ref _updates);
            return (KubeObjects.Clone(after), null);
        }
    }

    public V1Status Delete(string ns, string name, string? preconditionUid)
    {
        lock (_gate)
        {
            if (table.Find(ns, name) is not { } stored)
                return KubeStatus.NotFound(table.Resource, name);
            if (preconditionUid is { Length: > 0 } uid && uid != stored.Metadata.Uid)
                return KubeStatus.Conflict(table.Resource, name, $"Precondition failed: UID in precondition: {uid}, UID in object meta: {stored.Metadata.Uid}");
            table.Delete(ns, name);
            var success = KubeStatus.Failure(200, "", "", new V1StatusDetails { Name = name, Kind = table.Resource, Uid = stored.Metadata.Uid });
            success.Status = "Success";
            return success;
        }
    }

    /// <summary>Deletes every object <paramref name="owned"/> matches: the garbage collector following ownerReferences.</summary>
    public void DeleteWhere(Func<T, bool> owned)
    {
        lock (_gate)
        {
            foreach (var item in table.Items.Where(owned).ToList())
                table.Delete(item.Metadata.NamespaceProperty, item.Metadata.Name);
        }
    }

    /// <summary>Everything but metadata, kind and apiVersion, copied through the wire format.</summary>
    private static void Copy(T from, T to)
    {
        foreach (var property in typeof(T).GetProperties().Where(p => p.CanWrite && p.Name is not ("Metadata" or "Kind" or "ApiVersion")))
            property.SetValue(to, property.GetValue(from));
    }
}
