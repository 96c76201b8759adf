using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>The cluster's objects, the retained pod history and the open pod watches, behind one lock so that
/// every write reaches every watch in resourceVersion order.</summary>
internal sealed partial class ClusterStore
{
    private const int HistoryCapacity = 10_000;

    private readonly Lock _gate = new();
    private readonly ResourceVersionCounter _counter = new();
    private readonly ObjectTable<V1Pod> _pods;
    private readonly ObjectTable<V1ServiceAccount> _serviceAccounts;
    private readonly ObjectTable<V1Node> _nodes;
    private readonly List<PodChange> _history = [];
    private readonly List<PodWatch> _watches = [];
    private readonly CountWaiters _watchCountWaiters = new();

    // Watching from a resourceVersion below this one is "too old" (etcd compacted it away).
    private long _oldestWatchable;

    public ClusterStore(Func<DateTimeOffset> now)
    {
        _pods = new ObjectTable<V1Pod>("Pod", "pods", _counter, now);
        _serviceAccounts = new ObjectTable<V1ServiceAccount>("ServiceAccount", "serviceaccounts", _counter, now);
        _nodes = new ObjectTable<V1Node>("Node", "nodes", _counter, now);
        Secrets = new ObjectStore<V1Secret>(new ObjectTable<V1Secret>("Secret", "secrets", _counter, now), "", SecretValidation.Problem);
        Leases = new ObjectStore<V1Lease>(new ObjectTable<V1Lease>("Lease", "leases", _counter, now, "coordination.k8s.io/v1"), "coordination.k8s.io");
    }

    public int OpenWatches
    {
        get
        {
            lock (_gate)
            {
                return _watches.Count;
            }
        }
    }

    public Task WhenOpenWatches(Func<int, bool> condition)
    {
        lock (_gate)
        {
            return _watchCountWaiters.WaitAsync(_watches.Count, condition);
        }
    }

    public V1Pod AddPod(V1Pod pod)
    {
        lock (_gate)
        {
            var added = _pods.Add(Normalize(KubeObjects.Clone(pod)));
            Record(new PodChange(Rv(added), null, added));
            return KubeObjects.Clone(added);
        }
    }

    public V1Pod UpdatePod(string ns, string name, Action<V1Pod> mutate)
    {
        lock (_gate)
        {
            var (before, after) = _pods.Update(ns, name, p => Normalize(Mutated(p, mutate)));
            Record(new PodChange(Rv(after), before, after));
            return KubeObjects.Clone(after);
        }
    }

    public void DeletePod(string ns, string name)
    {
        lock (_gate)
        {
            var final = _pods.Delete(ns, name);
            Record(new PodChange(Rv(final), final, null));
        }
    }

    public V1Pod? GetPod(string ns, string name)
    {
        lock (_gate)
        {
            return _pods.Find(ns, name) is { } pod ? KubeObjects.Clone(pod) : null;
        }
    }

    /// <summary>The matching pods and the resourceVersion the list is consistent with.</summary>
    public (long ResourceVersion, List<V1Pod> Items) ListPods(Func<V1Pod, bool> matches)
    {
        lock (_gate)
        {
            return (_counter.Current, _pods.Items.Where(matches).Select(KubeObjects.Clone).ToList());
        }
    }

    /// <summary>Queues what the watch must see first (synthetic ADDED for a watch without a resourceVersion, the
    /// retained history after it otherwise) and registers it; or returns the 410 Status when that history is gone.</summary>
    public V1Status? StartWatch(PodWatch watch, long? from)
    {
        lock (_gate)
        {
            if (from is not { } since || since == 0)
            {
                foreach (var pod in _pods.Items.Where(watch.Matches).OrderBy(Rv))
                {
                    watch.SendInitial(pod);
                }
            }
            else if (since < _oldestWatchable)
            {
                return KubeStatus.Expired(since, _oldestWatchable);
            }
            else
            {
                foreach (var change in _history.Where(c => c.ResourceVersion > since))
                {
                    watch.Send(change);
                }
            }

            _watches.Add(watch);
            _watchCountWaiters.Notify(_watches.Count);
            return null;
        }
    }

    public void StopWatch(PodWatch watch)
    {
        lock (_gate)
        {
            if (_watches.Remove(watch))
            {
                _watchCountWaiters.Notify(_watches.Count);
            }
        }
    }

    /// <summary>Completes once every watch open now has flushed every line queued for it so far: the node's
    /// informer has been sent every change up to this moment.</summary>
    public async Task WaitForDeliveryAsync(CancellationToken ct)
    {
        List<(PodWatch Watch, long Queued)> pending;
        lock (_gate)
        {
            pending = _watches.Select(w => (w, w.Queued)).ToList();
        }

        while (pending.Any(p => p.Watch.Flushed < p.Queued && !p.Watch.Aborted && IsOpen(p.Watch)))
        {
            await Task.Delay(1, ct);
        }
    }

    private bool IsOpen(PodWatch watch)
    {
        lock (_gate)
        {
            return _watches.Contains(watch);
        }
    }

    public void SendBookmark(PodWatch watch)
    {
        lock (_gate)
        {
            watch.SendBookmark(_counter.Current);
        }
    }

    public void AbortWatches()
    {
        lock (_gate)
        {
            foreach (var watch in _watches)
            {
                watch.Abort();
            }

            _watches.Clear();
            _watchCountWaiters.Notify(0);
        }
    }

    /// <summary>Compaction: every resourceVersion issued so far becomes too old to watch from. The counter moves on
    /// so that a fresh list returns a resourceVersion that can be watched again.</summary>
    public void ExpireResourceVersions()
    {
        lock (_gate)
        {
            _oldestWatchable = _counter.Next();
            _history.Clear();
        }
    }

    public V1ServiceAccount AddServiceAccount(V1ServiceAccount sa) => Locked(() => KubeObjects.Clone(_serviceAccounts.Add(sa)));

    public V1ServiceAccount UpdateServiceAccount(string ns, string name, Action<V1ServiceAccount> mutate) =>
        Locked(() => KubeObjects.Clone(_serviceAccounts.Update(ns, name, mutate).After));

    public void DeleteServiceAccount(string ns, string name)
    {
        var gone = Locked(() => _serviceAccounts.Delete(ns, name));
        Secrets.DeleteWhere(s => s.Metadata.NamespaceProperty == ns && s.Metadata.OwnerReferences?.Any(o => o.Uid == gone.Metadata.Uid) == true);
    }

    public V1ServiceAccount? GetServiceAccount(string ns, string name) =>
        Locked(() => _serviceAccounts.Find(ns, name) is { } sa ? KubeObjects.Clone(sa) : null);

    public V1Node AddNode(V1Node node) => Locked(() => KubeObjects.Clone(_nodes.Add(node)));

    public V1Node UpdateNode(string name, Action<V1Node> mutate) => Locked(() => KubeObjects.Clone(_nodes.Update(null, name, mutate).After));

    public V1Node? GetNode(string name) => Locked(() => _nodes.Find(null, name) is { } node ? KubeObjects.Clone(node) : null);

    private static long Rv(V1Pod pod) => long.Parse(pod.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture);

    private static V1Pod Mutated(V1Pod pod, Action<V1Pod> mutate)
    {
        mutate(pod);
        return pod;
    }

    /// <summary>status.podIP and status.podIPs[0] are one value: the API server's conversion fills either from the other.</summary>
    private static V1Pod Normalize(V1Pod pod)
    {
        if (pod.Status is { } status)
        {
            if (status.PodIPs is not { Count: > 0 } && !string.IsNullOrEmpty(status.PodIP))
            {
                status.PodIPs = [new V1PodIP { Ip = status.PodIP }];
            }
            else if (status.PodIPs is { Count: > 0 } ips && string.IsNullOrEmpty(status.PodIP))
            {
                status.PodIP = ips[0].Ip;
            }
        }

        return pod;
    }

    private void Record(PodChange change)
    {
        _history.Add(change);
        if (_history.Count > HistoryCapacity)
        {
            _history.RemoveAt(0);
            _oldestWatchable = _history[0].ResourceVersion - 1;
        }

        foreach (var watch in _watches)
        {
            watch.Send(change);
        }
    }

    private TResult Locked<TResult>(Func<TResult> action)
    {
        lock (_gate)
        {
            return action();
        }
    }
}
