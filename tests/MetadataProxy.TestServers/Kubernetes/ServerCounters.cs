using k8s.Models;

namespace MetadataProxy.TestServers.Kubernetes;

internal sealed class ServerCounters
{
    private readonly Lock _gate = new();
    private readonly List<TokenRequestRecord> _tokenRequests = [];
    private readonly List<Corev1Event> _events = [];
    private readonly List<string> _watchProtocols = [];
    private readonly List<string> _podListVersions = [];
    private readonly List<string> _serviceAccountListVersions = [];
    private int _podLists;
    private int _podListsFromCache;
    private int _throttled;
    private int _throttledWatches;
    private int _podWatches;
    private int _podGets;
    private int _serviceAccountGets;
    private int _nodeGets;
    private int _nodePatches;
    private int _tokenReviews;
    private int _serviceAccountLists;
    private int _serviceAccountWatches;
    private int _serviceAccountPatches;
    private int _serviceAccountInterference;
    private int _serviceAccountListFailures;

    public int PodLists => Volatile.Read(ref _podLists);

    /// <summary>Lists with resourceVersion=0: served from the watch cache, not a quorum read.</summary>
    public int PodListsFromCache => Volatile.Read(ref _podListsFromCache);

    public int ThrottledRequests => Volatile.Read(ref _throttled);

    public int ThrottledWatches => Volatile.Read(ref _throttledWatches);

    public void Throttled(bool watch)
    {
        Interlocked.Increment(ref _throttled);
        if (watch)
        {
            Interlocked.Increment(ref _throttledWatches);
        }
    }

    public int PodWatches => Volatile.Read(ref _podWatches);

    public IReadOnlyList<string> WatchProtocols
    {
        get
        {
            lock (_gate)
            {
                return [.. _watchProtocols];
            }
        }
    }

    public void WatchProtocol(string protocol)
    {
        lock (_gate)
        {
            _watchProtocols.Add(protocol);
        }
    }

    public int PodGets => Volatile.Read(ref _podGets);

    public int ServiceAccountGets => Volatile.Read(ref _serviceAccountGets);

    public int NodeGets => Volatile.Read(ref _nodeGets);

    public int NodePatches => Volatile.Read(ref _nodePatches);

    public int TokenReviews => Volatile.Read(ref _tokenReviews);

    public int ServiceAccountLists => Volatile.Read(ref _serviceAccountLists);

    public int ServiceAccountPatches => Volatile.Read(ref _serviceAccountPatches);

    /// <summary>The resourceVersion of every ServiceAccount list request (each chunk), in order; "" for none.</summary>
    public IReadOnlyList<string> ServiceAccountListVersions
    {
        get
        {
            lock (_gate)
            {
                return [.. _serviceAccountListVersions];
            }
        }
    }

    public void ServiceAccountList(string? resourceVersion)
    {
        Interlocked.Increment(ref _serviceAccountLists);
        lock (_gate)
        {
            _serviceAccountListVersions.Add(resourceVersion ?? "");
        }
    }

    public int ServiceAccountWatches => Volatile.Read(ref _serviceAccountWatches);

    public void ServiceAccountWatch() => Interlocked.Increment(ref _serviceAccountWatches);

    public void ServiceAccountPatch() => Interlocked.Increment(ref _serviceAccountPatches);

    /// <summary>The next <paramref name="patches"/> ServiceAccount patches find the account changed by another writer first.</summary>
    public void InterfereWithServiceAccountPatches(int patches) => Volatile.Write(ref _serviceAccountInterference, patches);

    public bool TakeServiceAccountInterference() => TakeOne(ref _serviceAccountInterference);

    /// <summary>The next <paramref name="lists"/> ServiceAccount list requests answer 500 (etcd timing out).</summary>
    public void FailServiceAccountLists(int lists) => Volatile.Write(ref _serviceAccountListFailures, lists);

    public bool TakeServiceAccountListFailure() => TakeOne(ref _serviceAccountListFailures);

    private static bool TakeOne(ref int left)
    {
        while (true)
        {
            var now = Volatile.Read(ref left);
            if (now <= 0)
                return false;
            if (Interlocked.CompareExchange(ref left, now - 1, now) == now)
                return true;
        }
    }

    public void TokenReview() => Interlocked.Increment(ref _tokenReviews);

    public int TokenRequests
    {
        get
        {
            lock (_gate)
            {
                return _tokenRequests.Count;
            }
        }
    }

    public IReadOnlyList<TokenRequestRecord> TokenRequestsMade
    {
        get
        {
            lock (_gate)
            {
                return [.. _tokenRequests];
            }
        }
    }

    /// <summary>The resourceVersion of every pod list so far, in order: "" for none (the most recent state), "0" (any
    /// state: the watch cache), or N (not older than N).</summary>
    public IReadOnlyList<string> PodListVersions
    {
        get
        {
            lock (_gate)
            {
                return [.. _podListVersions];
            }
        }
    }

    public void PodList(string? resourceVersion)
    {
        Interlocked.Increment(ref _podLists);
        if (resourceVersion == "0")
        {
            Interlocked.Increment(ref _podListsFromCache);
        }

        lock (_gate)
        {
            _podListVersions.Add(resourceVersion ?? "");
        }
    }

    public void PodWatch() => Interlocked.Increment(ref _podWatches);

    public void PodGet() => Interlocked.Increment(ref _podGets);

    public void ServiceAccountGet() => Interlocked.Increment(ref _serviceAccountGets);

    public void NodeGet() => Interlocked.Increment(ref _nodeGets);

    public void NodePatch() => Interlocked.Increment(ref _nodePatches);

    public IReadOnlyList<Corev1Event> EventsCreated
    {
        get
        {
            lock (_gate)
            {
                return [.. _events];
            }
        }
    }

    public void EventCreated(Corev1Event created)
    {
        lock (_gate)
        {
            _events.Add(created);
        }
    }

    public void TokenRequest(TokenRequestRecord record)
    {
        lock (_gate)
        {
            _tokenRequests.Add(record);
        }
    }
}
