namespace MetadataProxy.Tokens;

/// <summary>
/// One key of a <see cref="TokenCache{TKey}"/>: its token, its last refusal, and at most one fetch at a time. A fetch
/// that callers started is abandoned when the last of them leaves (dropped before it reaches Google, or its call
/// cancelled); one the cache started itself (a refresh ahead of need, a prefetch) always runs to its end.
/// </summary>
internal sealed class TokenCacheEntry
{
    private readonly Lock _lock = new();
    private Task<TokenOutcome>? _refreshing;
    private Action? _abandon; // cancels the running fetch
    private int _waiters;
    private bool _kept;

    public CachedToken? Current { get; private set; }

    public DateTimeOffset RefreshAt { get; private set; } = DateTimeOffset.MinValue;

    public DateTimeOffset LastUsed { get; set; }

    /// <summary>How the last caller fetched this key's token: what a background refresh repeats.</summary>
    public Func<CancellationToken, Task<TokenOutcome>>? LastFetch { get; set; }

    /// <summary>The last fetch's refusal, while no token is held; answered again until <see cref="RefreshAt"/>.</summary>
    public TokenOutcome.Refused? LastRefusal { get; private set; }

    /// <summary>Whether a fetch is running (a new caller joins it rather than being answered an old refusal).</summary>
    public bool IsFetching => Volatile.Read(ref _refreshing) is not null;

    /// <summary>A fetch that runs to its end whoever waits (joins the running one, and keeps it).</summary>
    public Task<TokenOutcome> RefreshAsync(Func<CancellationToken, Task<TokenOutcome>> fetch, TokenCachePolicy policy, TimeProvider time)
    {
        lock (_lock)
        {
            var pending = Start(fetch, policy, time);
            _kept = true;
            return pending;
        }
    }

    /// <summary>Waits for the running fetch (or starts one) until <paramref name="cancellationToken"/>; the last to leave abandons it.</summary>
    public async Task<TokenOutcome> JoinAsync(Func<CancellationToken, Task<TokenOutcome>> fetch, TokenCachePolicy policy, TimeProvider time, CancellationToken cancellationToken)
    {
        Task<TokenOutcome> pending;
        lock (_lock)
        {
            pending = Start(fetch, policy, time);
            _waiters++;
        }

        try
        {
            return await pending.WaitAsync(cancellationToken);
        }
        finally
        {
            Action? abandon = null;
            lock (_lock)
            {
                if (--_waiters == 0 && !_kept && ReferenceEquals(_refreshing, pending))
                {
                    // Detached at once: the next caller starts a fresh fetch instead of joining one that is stopping.
                    abandon = _abandon;
                    _refreshing = null;
                    _abandon = null;
                }
            }

            // Outside the lock: cancellation runs the fetch's callbacks, which may complete it inline.
            abandon?.Invoke();
        }
    }

    private Task<TokenOutcome> Start(Func<CancellationToken, Task<TokenOutcome>> fetch, TokenCachePolicy policy, TimeProvider time)
    {
        if (_refreshing is { } running)
            return running;
        _kept = false;
        var abandon = new CancellationTokenSource(); // not disposed: a last waiter may cancel it late, and it holds no timer
        _abandon = abandon.Cancel;
        return _refreshing = RunAsync(fetch, policy, time, abandon.Token);
    }

    private async Task<TokenOutcome> RunAsync(Func<CancellationToken, Task<TokenOutcome>> fetch, TokenCachePolicy policy, TimeProvider time, CancellationToken abandoned)
    {
        await Task.Yield(); // callers never run the fetch on their own stack
        TokenOutcome outcome;
        try
        {
            outcome = await fetch(abandoned);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            outcome = new TokenOutcome.Refused(TokenRefusal.UpstreamUnavailable, $"The token fetch failed: {e.Message}");
        }

        lock (_lock)
        {
            if (outcome is TokenOutcome.Issued token)
            {
                // Kept even when nobody waits any more: Google has been paid for it.
                var cached = new CachedToken(token, time.GetUtcNow());
                Current = cached;
                RefreshAt = policy.RefreshAt(cached);
                LastRefusal = null;
            }
            else if (!abandoned.IsCancellationRequested && outcome is TokenOutcome.Refused { Reason: not TokenRefusal.Throttled } refused)
            {
                // An abandoned fetch proves nothing about Google, and a throttled one is the caller's own limit: neither is remembered.
                var now = time.GetUtcNow();
                RefreshAt = refused.Reason == TokenRefusal.UpstreamUnavailable && (Current is null || !TokenCachePolicy.IsServable(Current, now))
                    ? policy.RetryUnavailableAt(now) // callers wait for this token: ask again soon
                    : policy.RetryAt(now);
                LastRefusal = refused;
            }

            if (!abandoned.IsCancellationRequested) // else it was detached when abandoned, and a newer fetch may run
            {
                _refreshing = null;
                _abandon = null;
            }
        }

        return outcome;

    }
}
