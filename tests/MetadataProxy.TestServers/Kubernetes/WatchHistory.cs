using k8s;
using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>
/// The watch cache of one kind: its retained changes and its open watches. A watch from a resourceVersion replays
/// the changes after it; from none (or "0") it starts with synthetic ADDED for what exists; from one older than the
/// retained history it is refused 410 Expired. Not thread-safe: the <see cref="ClusterStore"/> holds its lock.
/// </summary>
internal sealed class WatchHistory<T>
    where T : class, IKubernetesObject<V1ObjectMeta>, new()
{
    private const int Capacity = 10_000;

    private readonly List<ObjectChange<T>> _changes = [];
    private readonly List<ObjectWatch<T>> _watches = [];

    // Watching from a resourceVersion below this one is "too old" (etcd compacted it away).
    private long _oldestWatchable;

    public IReadOnlyList<ObjectWatch<T>> Watches => _watches;

    public long OldestWatchable => _oldestWatchable;

    public void Record(ObjectChange<T> change)
    {
        _changes.Add(change);
        if (_changes.Count > Capacity)
        {
            _changes.RemoveAt(0);
            _oldestWatchable = _changes[0].ResourceVersion - 1;
        }

        foreach (var watch in _watches)
        {
            watch.Send(change);
        }
    }

    /// <summary>Queues what the watch must see first and registers it; or returns the 410 Status when that history is gone.</summary>
    public V1Status? Start(ObjectWatch<T> watch, long? from, IEnumerable<T> existing)
    {
        if (from is not { } since || since == 0)
        {
            foreach (var item in existing.Where(watch.Matches).OrderBy(Rv))
            {
                watch.SendInitial(item);
            }
        }
        else if (since < _oldestWatchable)
        {
            return KubeStatus.Expired(since, _oldestWatchable);
        }
        else
        {
            foreach (var change in _changes.Where(c => c.ResourceVersion > since))
            {
                watch.Send(change);
            }
        }

        _watches.Add(watch);
        return null;
    }

    public bool Stop(IObjectWatch watch) => watch is ObjectWatch<T> typed && _watches.Remove(typed);

    /// <summary>Compaction: resourceVersions below <paramref name="oldest"/> can no longer be watched from.</summary>
    public void Expire(long oldest)
    {
        _oldestWatchable = oldest;
        _changes.Clear();
    }

    public void AbortAll()
    {
        foreach (var watch in _watches)
        {
            watch.Abort();
        }

        _watches.Clear();
    }

    private static long Rv(T value) => long.Parse(value.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture);
}
