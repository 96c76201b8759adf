using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using MetadataProxy.Operations;

namespace MetadataProxy.Tokens;

/// <summary>
/// Tokens by key, fetched ahead of need (decision 4): a servable token is returned at once and refreshed in the
/// background once it is due; one upstream call per key at a time however many callers wait; when a refresh fails
/// the old token keeps serving while it has more than 5 minutes left. Keys nobody uses any more are forgotten. A hit
/// takes no lock; a miss looks only at its own group's keys.
/// </summary>
internal sealed class TokenCache<TKey>(
    TokenCachePolicy policy,
    TimeProvider time,
    int capacity = 10_000,
    Func<TKey, string>? groupOf = null,
    int groupCapacity = 64,
    ProxyMetrics? metrics = null,
    string name = "access")
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, TokenCacheEntry> _entries = new();
    private readonly Lock _index = new(); // guards adding and removing keys, and the groups
    private readonly Dictionary<string, HashSet<TKey>> _groups = new(StringComparer.Ordinal);

    public int Count => _entries.Count;

    public IEnumerable<TKey> Keys => _entries.Keys;

    /// <summary>Exports this cache's size and soonest expiry at each scrape (no-op without metrics); returns the cache.</summary>
    public TokenCache<TKey> Observed()
    {
        metrics?.ObserveTokenCache(name, () => Count, SoonestExpiry);
        return this;
    }

    /// <summary>Whether the key is held (a token, a refusal, or a fetch), so asking for it opens no new key.</summary>
    public bool Contains(TKey key) => _entries.ContainsKey(key);

    /// <summary>Whether a fetch for the key is running; false once a background refresh has recorded its outcome.</summary>
    public bool IsFetching(TKey key) => _entries.TryGetValue(key, out var entry) && entry.IsFetching;

    /// <summary>
    /// The hit path of <see cref="GetAsync"/>, callable alone without a task: a servable token held for
    /// <paramref name="key"/>, with its bookkeeping (last use, the fetch a refresh will use, a refresh started when due);
    /// false when the caller would have to wait or be refused, which <see cref="GetAsync"/> then decides.
    /// </summary>
    public bool TryGetServable(TKey key, Func<CancellationToken, Task<TokenOutcome>> fetch, [NotNullWhen(true)] out TokenOutcome? token)
    {
        token = null;
        if (!_entries.TryGetValue(key, out var entry) || entry.Current is not { } current)
            return false;
        var now = time.GetUtcNow();
        if (!TokenCachePolicy.IsServable(current, now))
            return false;
        entry.LastUsed = now;
        entry.LastFetch = fetch;
        metrics?.TokenCacheHit(name);
        if (now >= entry.RefreshAt)
            Refresh(entry, fetch);
        token = current.Token;
        return true;
    }

    /// <summary>
    /// The cached token, or the outcome of fetching one (joined with any fetch already running for the key). When
    /// <paramref name="cancellationToken"/> fires the caller leaves; when every caller of a fetch has left, the fetch
    /// is abandoned.
    /// </summary>
    public async Task<TokenOutcome> GetAsync(TKey key, Func<CancellationToken, Task<TokenOutcome>> fetch, CancellationToken cancellationToken)
    {
        if (TryGetServable(key, fetch, out var held))
            return held;

        var entry = EntryFor(key);
        var now = time.GetUtcNow();
        entry.LastUsed = now;
        entry.LastFetch = fetch;
        metrics?.TokenCacheMiss(name);

        if (StandingRefusal(entry, now) is { } refusal)
            return refusal;

        var outcome = await entry.JoinAsync(fetch, policy, time, cancellationToken);
        return outcome is TokenOutcome.Refused && entry.Current is { } still && TokenCachePolicy.IsServable(still, time.GetUtcNow())
            ? still.Token
            : outcome;
    }

    /// <summary>
    /// Fetches a token for a key before anyone asks (a pod with a new identity appeared); a refusal that still stands
    /// is the answer instead, as for <see cref="GetAsync"/>: every event of a pod (a status, a label) prefetches, and a
    /// refused account's pods would otherwise cost a TokenRequest and an exchange each time.
    /// </summary>
    public Task<TokenOutcome> PrefetchAsync(TKey key, Func<CancellationToken, Task<TokenOutcome>> fetch)
    {
        var entry = EntryFor(key);
        entry.LastFetch ??= fetch;
        var now = time.GetUtcNow();
        if (entry.Current is { } current && TokenCachePolicy.IsServable(current, now))
            return Task.FromResult<TokenOutcome>(current.Token);
        return StandingRefusal(entry, now) is { } refusal
            ? Task.FromResult<TokenOutcome>(refusal)
            : entry.RefreshAsync(fetch, policy, time);
    }

    /// <summary>
    /// Refreshes, in the background, every token that is due and was asked for within its lifetime, so that clients
    /// which come back only shortly before expiry (.NET and Python at 3 min 45 s, Go at 10 s) never wait for Google.
    /// </summary>
    public int RefreshDue()
    {
        var now = time.GetUtcNow();
        var started = 0;
        foreach (var entry in _entries.Values)
        {
            if (entry.LastFetch is { } fetch && entry.Current is { } current && now >= entry.RefreshAt && now - entry.LastUsed < current.Lifetime)
            {
                Refresh(entry, fetch);
                started++;
            }
        }

        return started;
    }

    /// <summary>
    /// Time left on the soonest-expiring token among those kept fresh (asked for within its lifetime when its refresh
    /// is due); an alert on it says refreshes are failing before any caller is refused.
    /// </summary>
    public TimeSpan? SoonestExpiry()
    {
        var now = time.GetUtcNow();
        TimeSpan? soonest = null;
        foreach (var entry in _entries.Values)
        {
            // Kept fresh: still asked for within its lifetime when its refresh comes (RefreshDue's own test); a token
            // nobody asks for any more is left to expire, and is no alarm.
            if (entry.Current is { } current && current.ExpiresAt > now
                && (now > entry.RefreshAt ? now : entry.RefreshAt) - entry.LastUsed < current.Lifetime
                && (soonest is null || current.ExpiresAt - now < soonest))
                soonest = current.ExpiresAt - now;
        }

        return soonest;
    }

    /// <summary>Stops keeping and refreshing tokens for keys that <paramref name="inUse"/> rejects.</summary>
    public int Evict(Func<TKey, bool> inUse)
    {
        lock (_index)
        {
            var evicted = 0;
            foreach (var key in _entries.Keys.Where(k => !inUse(k)).ToList())
            {
                if (Remove(key))
                    evicted++;
            }

            return evicted;
        }
    }

    /// <summary>
    /// The key's last refusal while it stands (until its retry time): asking again before then does not make Google
    /// (or the quota) pay. A fetch already under way (a prefetch for a new pod, say) is newer news: it is joined instead.
    /// </summary>
    private static TokenOutcome.Refused? StandingRefusal(TokenCacheEntry entry, DateTimeOffset now) =>
        entry.LastRefusal is { } refusal && now < entry.RefreshAt && !entry.IsFetching ? refusal : null;

    private void Refresh(TokenCacheEntry entry, Func<CancellationToken, Task<TokenOutcome>> fetch)
    {
        if (!entry.IsFetching)
            metrics?.TokenCacheRefresh(name);
        _ = entry.RefreshAsync(fetch, policy, time);
    }

    private TokenCacheEntry EntryFor(TKey key)
    {
        if (_entries.TryGetValue(key, out var entry))
            return entry;
        lock (_index)
        {
            if (_entries.TryGetValue(key, out entry))
                return entry;
            if (groupOf is not null)
            {
                // One identity (one Kubernetes service account) cannot crowd out the others: past its share, its own
                // least recently used key goes.
                if (_groups.TryGetValue(groupOf(key), out var mine) && mine.Count >= groupCapacity)
                    Remove(mine.MinBy(k => _entries[k].LastUsed)!);
            }

            if (_entries.Count >= capacity)
                RemoveLeastRecentlyUsed();

            entry = new TokenCacheEntry();
            _entries[key] = entry;
            if (groupOf is not null)
            {
                var group = groupOf(key);
                if (!_groups.TryGetValue(group, out var mine))
                    _groups[group] = mine = [];
                mine.Add(key);
            }

            return entry;
        }
    }

    /// <summary>At capacity, the least recently used tenth goes at once, so only one miss in a tenth of the capacity scans.</summary>
    private void RemoveLeastRecentlyUsed()
    {
        var count = Math.Max(1, capacity / 10);
        foreach (var key in _entries.OrderBy(e => e.Value.LastUsed).Take(count).Select(e => e.Key).ToList())
            Remove(key);
    }

    private bool Remove(TKey key)
    {
        if (!_entries.TryRemove(key, out _))
            return false;
        if (groupOf is not null && _groups.TryGetValue(groupOf(key), out var mine))
        {
            mine.Remove(key);
            if (mine.Count == 0)
                _groups.Remove(groupOf(key));
        }

        return true;
    }
}
