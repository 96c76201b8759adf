using System.Collections.Concurrent;

namespace MetadataProxy.Tokens;

/// <summary>
/// Tokens by key, fetched ahead of need (decision 4): a servable token is returned at once and refreshed in the
/// background once it is due; one upstream call per key at a time however many callers wait; when a refresh fails
/// the old token keeps serving while it has more than 5 minutes left. Keys nobody uses any more are forgotten.
/// </summary>
internal sealed class TokenCache<TKey>(
    TokenCachePolicy policy,
    TimeProvider time,
    int capacity = 10_000,
    Func<TKey, string>? groupOf = null,
    int groupCapacity = 64)
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, Entry> _entries = new();

    public int Count => _entries.Count;

    public IEnumerable<TKey> Keys => _entries.Keys;

    /// <summary>The cached token, or the outcome of fetching one (joined with any fetch already running for the key).</summary>
    public async Task<TokenOutcome> GetAsync(TKey key, Func<CancellationToken, Task<TokenOutcome>> fetch, CancellationToken cancellationToken)
    {
        var entry = EntryFor(key);
        var now = time.GetUtcNow();
        entry.LastUsed = now;
        entry.LastFetch = fetch;
        var current = entry.Current;
        if (current is not null && TokenCachePolicy.IsServable(current, now))
        {
            if (now >= entry.RefreshAt)
                _ = entry.RefreshAsync(fetch, policy, time);
            return current.Token;
        }

        // A refusal stands until its retry time: a caller that keeps asking does not make Google (or the quota) pay.
        if (entry.LastRefusal is { } refusal && now < entry.RefreshAt)
            return refusal;

        var outcome = await entry.RefreshAsync(fetch, policy, time).WaitAsync(cancellationToken);
        return outcome is TokenOutcome.Refused && entry.Current is { } still && TokenCachePolicy.IsServable(still, time.GetUtcNow())
            ? still.Token
            : outcome;
    }

    /// <summary>Fetches a token for a key before anyone asks (a pod with a new identity appeared).</summary>
    public Task<TokenOutcome> PrefetchAsync(TKey key, Func<CancellationToken, Task<TokenOutcome>> fetch)
    {
        var entry = EntryFor(key);
        entry.LastFetch ??= fetch;
        return entry.Current is { } current && TokenCachePolicy.IsServable(current, time.GetUtcNow())
            ? Task.FromResult<TokenOutcome>(current.Token)
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
                _ = entry.RefreshAsync(fetch, policy, time);
                started++;
            }
        }

        return started;
    }

    /// <summary>Stops keeping and refreshing tokens for keys that <paramref name="inUse"/> rejects.</summary>
    public int Evict(Func<TKey, bool> inUse)
    {
        var evicted = 0;
        foreach (var key in _entries.Keys.Where(k => !inUse(k)).ToList())
        {
            if (_entries.TryRemove(key, out _))
                evicted++;
        }

        return evicted;
    }

    private Entry EntryFor(TKey key)
    {
        if (_entries.TryGetValue(key, out var entry))
            return entry;
        if (groupOf is not null)
        {
            // One identity (one Kubernetes service account) cannot crowd out the others: past its share, its own
            // least recently used key goes.
            var group = groupOf(key);
            var mine = _entries.Where(e => groupOf(e.Key) == group).ToList();
            if (mine.Count >= groupCapacity)
                _entries.TryRemove(mine.MinBy(e => e.Value.LastUsed).Key, out _);
        }

        if (_entries.Count >= capacity)
        {
            // Bounded: the least recently used key goes first.
            var oldest = _entries.MinBy(e => e.Value.LastUsed).Key;
            _entries.TryRemove(oldest, out _);
        }

        return _entries.GetOrAdd(key, _ => new Entry());
    }

    private sealed class Entry
    {
        private readonly Lock _lock = new();
        private Task<TokenOutcome>? _refreshing;

        public CachedToken? Current { get; private set; }

        public DateTimeOffset RefreshAt { get; private set; } = DateTimeOffset.MinValue;

        public DateTimeOffset LastUsed { get; set; }

        /// <summary>How the last caller fetched this key's token: what a background refresh repeats.</summary>
        public Func<CancellationToken, Task<TokenOutcome>>? LastFetch { get; set; }

        /// <summary>The last fetch's refusal, while no token is held; answered again until <see cref="RefreshAt"/>.</summary>
        public TokenOutcome.Refused? LastRefusal { get; private set; }

        public Task<TokenOutcome> RefreshAsync(Func<CancellationToken, Task<TokenOutcome>> fetch, TokenCachePolicy policy, TimeProvider time)
        {
            lock (_lock)
            {
                return _refreshing ??= RunAsync(fetch, policy, time);
            }
        }

        private async Task<TokenOutcome> RunAsync(Func<CancellationToken, Task<TokenOutcome>> fetch, TokenCachePolicy policy, TimeProvider time)
        {
            await Task.Yield(); // callers never run the fetch on their own stack
            TokenOutcome outcome;
            try
            {
                outcome = await fetch(CancellationToken.None);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                outcome = new TokenOutcome.Refused(TokenRefusal.UpstreamUnavailable, $"The token fetch failed: {e.Message}");
            }

            lock (_lock)
            {
                if (outcome is TokenOutcome.Issued token)
                {
                    var cached = new CachedToken(token, time.GetUtcNow());
                    Current = cached;
                    RefreshAt = policy.RefreshAt(cached);
                    LastRefusal = null;
                }
                else
                {
                    RefreshAt = policy.RetryAt(time.GetUtcNow());
                    LastRefusal = outcome as TokenOutcome.Refused;
                }

                _refreshing = null;
            }

            return outcome;
        }
    }
}
