using System.Collections.Immutable;
using System.Net;

namespace MetadataProxy.Pods;

/// <summary>
/// The pods on this node, by UID, and the live ones by every address in <c>status.podIPs</c>. Readers take an
/// immutable snapshot and never wait; writers (the informer) replace it. <see cref="NextChange"/> lets a lookup
/// for an unknown address wait for the pod to appear; <see cref="Generation"/> tells whether anything changed since.
/// </summary>
internal sealed class PodIndex
{
    private readonly Lock _write = new();
    private volatile Snapshot _snapshot = Snapshot.Empty;
    private TaskCompletionSource _next = NewSource();

    public int Count => _snapshot.ByUid.Count;

    /// <summary>Grows by one with every change: an answer taken at one generation is no newer than what the index
    /// has learned once the generation has moved on.</summary>
    public long Generation => _snapshot.Generation;

    /// <summary>Completes at the next change after it was read.</summary>
    public Task NextChange => Volatile.Read(ref _next).Task;

    /// <summary>Live pods that claim <paramref name="address"/>, terminating ones whose containers still run included.</summary>
    public ImmutableArray<PodRecord> LiveAt(IPAddress address) =>
        _snapshot.LiveByAddress.TryGetValue(PodRecords.Normalise(address), out var pods) ? pods : [];

    /// <summary>Pods on this node waiting for the CNI to give them an address.</summary>
    public ImmutableArray<PodRecord> AwaitingAddress => _snapshot.AwaitingAddress;

    /// <summary>Who owns <paramref name="address"/> by <see cref="AddressOwners.Decide"/>, from one snapshot.</summary>
    public AddressOwner OwnerOf(IPAddress address)
    {
        var snapshot = _snapshot;
        return AddressOwners.Decide(
            snapshot.LiveByAddress.TryGetValue(PodRecords.Normalise(address), out var pods) ? pods : [],
            snapshot.AwaitingAddress);
    }

    /// <summary>Addresses of hostNetwork pods: the node's own.</summary>
    public bool IsHostNetworkAddress(IPAddress address) => _snapshot.HostNetworkAddresses.Contains(PodRecords.Normalise(address));

    public PodRecord? ByUid(string uid) => _snapshot.ByUid.GetValueOrDefault(uid);

    public IEnumerable<PodRecord> All => _snapshot.ByUid.Values;

    public void Upsert(PodRecord pod) => Update(pods => pods.SetItem(pod.Uid, pod));

    public void Remove(string uid) => Update(pods => pods.Remove(uid));

    /// <summary>A relist: the new state replaces the old in one step, so no reader sees a half-built index.</summary>
    public void ReplaceAll(IEnumerable<PodRecord> pods) =>
        Update(_ => pods.ToImmutableDictionary(p => p.Uid, StringComparer.Ordinal));

    private void Update(Func<ImmutableDictionary<string, PodRecord>, ImmutableDictionary<string, PodRecord>> change)
    {
        TaskCompletionSource changed;
        lock (_write)
        {
            _snapshot = Snapshot.Of(change(_snapshot.ByUid), _snapshot.Generation + 1);
            changed = Interlocked.Exchange(ref _next, NewSource());
        }

        changed.TrySetResult();
    }

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed record Snapshot(
        ImmutableDictionary<string, PodRecord> ByUid,
        ImmutableDictionary<IPAddress, ImmutableArray<PodRecord>> LiveByAddress,
        ImmutableHashSet<IPAddress> HostNetworkAddresses,
        ImmutableArray<PodRecord> AwaitingAddress,
        long Generation)
    {
        public static readonly Snapshot Empty = Of(ImmutableDictionary.Create<string, PodRecord>(StringComparer.Ordinal), 0);

        public static Snapshot Of(ImmutableDictionary<string, PodRecord> pods, long generation)
        {
            var live = pods.Values.Where(p => p.IsLive)
                .SelectMany(p => p.Addresses.Select(a => (Address: a, Pod: p)))
                .GroupBy(x => x.Address)
                .ToImmutableDictionary(g => g.Key, g => g.Select(x => x.Pod).ToImmutableArray());
            var host = pods.Values.Where(p => p.HostNetwork && !p.Terminating).SelectMany(p => p.Addresses).ToImmutableHashSet();
            var awaiting = pods.Values.Where(p => p.AwaitsAddress).ToImmutableArray();
            return new Snapshot(pods, live, host, awaiting, generation);
        }
    }
}
