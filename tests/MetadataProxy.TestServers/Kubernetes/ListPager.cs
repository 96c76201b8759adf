using k8s;
using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>
/// List chunking (<c>limit</c>/<c>continue</c>) as the API server serves it from etcd: items in key order, every chunk
/// consistent with the first chunk's resourceVersion (this server keeps that chunk's snapshot), a <c>continue</c>
/// token while items remain, and 410 Expired once that resourceVersion has been compacted. Not thread-safe: the
/// <see cref="ClusterStore"/> holds its lock.
/// </summary>
internal sealed class ListPager<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private const int SnapshotsKept = 32;

    private readonly Dictionary<long, List<T>> _snapshots = [];
    private readonly Queue<long> _order = new();

    /// <summary>The chunk asked for, or the Status that refuses it.</summary>
    public (ListChunk<T>? Chunk, V1Status? Failure) Page(IEnumerable<T> current, long currentVersion, long oldestWatchable, int? limit, string? token)
    {
        long version;
        List<T> items;
        var start = "";
        if (string.IsNullOrEmpty(token))
        {
            version = currentVersion;
            items = [.. current.OrderBy(Key, StringComparer.Ordinal)];
        }
        else if (!ContinueToken.TryDecode(token, out version, out start))
        {
            return (null, KubeStatus.BadRequest("continue key is not valid: the token could not be decoded"));
        }
        else if (version < oldestWatchable || !_snapshots.TryGetValue(version, out items!))
        {
            return (null, KubeStatus.Failure(410, "Expired",
                "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter."));
        }

        var rest = items.Where(i => string.CompareOrdinal(Key(i), start) >= 0).ToList();
        if (limit is not { } size || size <= 0 || rest.Count <= size)
            return (new ListChunk<T>(version, rest, null, null), null);

        if (_snapshots.TryAdd(version, items))
        {
            _order.Enqueue(version);
            if (_order.Count > SnapshotsKept)
                _snapshots.Remove(_order.Dequeue());
        }

        var page = rest.Take(size).ToList();
        return (new ListChunk<T>(version, page, ContinueToken.Encode(version, Key(page[^1])), rest.Count - size), null);
    }

    /// <summary>Compaction: no snapshot older than <paramref name="oldest"/> can be continued.</summary>
    public void Expire(long oldest)
    {
        foreach (var version in _snapshots.Keys.Where(v => v < oldest).ToList())
            _snapshots.Remove(version);
    }

    private static string Key(T item) => KubeObjects.Key(item.Metadata.NamespaceProperty, item.Metadata.Name);
}
