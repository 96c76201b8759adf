using k8s;
using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

/// <summary>The cluster's objects, the watch caches (retained history and open watches) of pods and ServiceAccounts,
/// behind one lock so that every write reaches every watch in resourceVersion order.</summary>
internal sealed partial class ClusterStore
{
    private readonly Lock _gate = new();
    private readonly ResourceVersionCounter _counter = new();
    private readonly ObjectTable<V1Pod> _pods;
    private readonly ObjectTable<V1ServiceAccount> _serviceAccounts;
    private readonly ObjectTable<V1Node> _nodes;
    private readonly WatchHistory<V1Pod> _podHistory = new();
    private readonly WatchHistory<V1ServiceAccount> _accountHistory = new();
    private readonly CountWaiters _watchCountWaiters = new();
    private WatchCuts _cuts;

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
                return OpenWatchCount;
            }
        }
    }

    private int OpenWatchCount => _podHistory.Watches.Count + _accountHistory.Watches.Count;

    private IEnumerable<IObjectWatch> AllWatches => _podHistory.Watches.Concat<IObjectWatch>(_accountHistory.Watches);

    public Task WhenOpenWatches(Func<int, bool> condition)
    {
        lock (_gate)
        {
            return _watchCountWaiters.WaitAsync(OpenWatchCount, condition);
        }
    }

    public V1Pod AddPod(V1Pod pod)
    {
        lock (_gate)
        {
            var added = _pods.Add(Normalize(KubeObjects.Clone(pod)));
            _podHistory.Record(new ObjectChange<V1Pod>(Rv(added), null, added));
            return KubeObjects.Clone(added);
        }
    }

    public V1Pod UpdatePod(string ns, string name, Action<V1Pod> mutate)
    {
        lock (_gate)
        {
            var (before, after) = _pods.Update(ns, name, p => Normalize(Mutated(p, mutate)));
            _podHistory.Record(new ObjectChange<V1Pod>(Rv(after), before, after));
            return KubeObjects.Clone(after);
        }
    }

    public void DeletePod(string ns, string name)
    {
        lock (_gate)
        {
            var final = _pods.Delete(ns, name);
            _podHistory.Record(new ObjectChange<V1Pod>(Rv(final), final, null));
        }
    }

    public V1Pod? GetPod(string ns, string name)
    {
        lock (_gate)
        {
            return _pods.Find(ns, name) is { } pod ? KubeObjects.Clone(pod) : null;
        }
    }

    /// <summary>The ends and cuts of open watches so far, for <see cref="StartWatch"/>.</summary>
    public WatchCuts WatchCuts => Locked(() => _cuts);

    /// <summary>Queues what the watch must see first (synthetic ADDED for a watch without a resourceVersion, the
    /// retained history after it otherwise), registers it and counts it open; or returns the 410 Status when that
    /// history is gone. A watch ended or cut since <paramref name="seen"/> was taken is ended or cut now.</summary>
    public V1Status? StartWatch<T>(ObjectWatch<T> watch, long? from, WatchCuts seen)
        where T : class, IKubernetesObject<V1ObjectMeta>, new()
    {
        lock (_gate)
        {
            if (_cuts.Aborts != seen.Aborts)
            {
                watch.Abort();
                return null;
            }

            var expired = watch switch
            {
                ObjectWatch<V1Pod> pods => _podHistory.Start(pods, from, _pods.Items),
                ObjectWatch<V1ServiceAccount> accounts => _accountHistory.Start(accounts, from, _serviceAccounts.Items),
                _ => throw new NotSupportedException($"no watch cache for {typeof(T).Name}"),
            };
            if (expired is null)
            {
                if (_cuts.Ends != seen.Ends)
                {
                    watch.End(); // what it replays is still sent
                }

                _watchCountWaiters.Notify(OpenWatchCount);
            }

            return expired;
        }
    }

    public void StopWatch(IObjectWatch watch)
    {
        lock (_gate)
        {
            if (_podHistory.Stop(watch) || _accountHistory.Stop(watch))
            {
                _watchCountWaiters.Notify(OpenWatchCount);
            }
        }
    }

    /// <summary>Completes once every watch open now has flushed every line queued for it so far: the node's
    /// informer has been sent every change up to this moment.</summary>
    public async Task WaitForDeliveryAsync(CancellationToken ct)
    {
        List<(IObjectWatch Watch, long Queued)> pending;
        lock (_gate)
        {
            pending = AllWatches.Select(w => (w, w.Queued)).ToList();
        }

        while (pending.Any(p => p.Watch.Flushed < p.Queued && !p.Watch.Aborted && IsOpen(p.Watch)))
        {
            await Task.Delay(1, ct);
        }
    }

    private bool IsOpen(IObjectWatch watch)
    {
        lock (_gate)
        {
            return AllWatches.Contains(watch);
        }
    }

    /// <summary>A bookmark timer exists before its watch is registered; one that fires then sends nothing, so no
    /// bookmark can overtake what the watch replays.</summary>
    public void SendBookmark(IObjectWatch watch)
    {
        lock (_gate)
        {
            if (AllWatches.Contains(watch))
            {
                watch.SendBookmark(_counter.Current);
            }
        }
    }

    /// <summary>The resourceVersion of the latest write.</summary>
    public long CurrentResourceVersion => Locked(() => _counter.Current);

    /// <summary>Ends every open watch cleanly once its queued lines are sent, as timeoutSeconds does.</summary>
    public void EndWatches()
    {
        lock (_gate)
        {
            _cuts = _cuts with { Ends = _cuts.Ends + 1 };
            foreach (var watch in AllWatches)
            {
                watch.End();
            }
        }
    }

    public void AbortWatches()
    {
        lock (_gate)
        {
            _cuts = _cuts with { Aborts = _cuts.Aborts + 1 };
            _podHistory.AbortAll();
            _accountHistory.AbortAll();
            _watchCountWaiters.Notify(0);
        }
    }

    /// <summary>Compaction: every resourceVersion issued so far becomes too old to watch from. The counter moves on
    /// so that a fresh list returns a resourceVersion that can be watched again.</summary>
    public void ExpireResourceVersions()
    {
        lock (_gate)
        {
            var oldest = _counter.Next();
            _podHistory.Expire(oldest);
            _accountHistory.Expire(oldest);
            _accountPages.Expire(oldest);
        }
    }

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

    private TResult Locked<TResult>(Func<TResult> action)
    {
        lock (_gate)
        {
            return action();
        }
    }
}
