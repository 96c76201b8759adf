using MetadataProxy.Tokens;
using Microsoft.Extensions.Time.Testing;

namespace MetadataProxy.UnitTests.Tokens;

public sealed class TokenCacheTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
    private readonly TokenCache<string> _cache;
    private int _fetches;

    public TokenCacheTests() => _cache = new TokenCache<string>(new TokenCachePolicy(() => 0.5), _time);

    [Fact]
    public async Task GetAsync_HundredConcurrentFirstCallers_FetchOnce()
    {
        var gate = new TaskCompletionSource<TokenOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        var callers = Enumerable.Range(0, 100).Select(_ => _cache.GetAsync("k", _ => { Interlocked.Increment(ref _fetches); return gate.Task; }, CancellationToken.None)).ToList();

        gate.SetResult(Token("t1", Hour));
        var results = await Task.WhenAll(callers);

        Assert.Equal(1, _fetches);
        Assert.All(results, r => Assert.Equal("t1", ((TokenOutcome.AccessToken)r).Value));
    }

    [Fact]
    public async Task GetAsync_BeforeRefreshIsDue_ServesTheCachedTokenWithoutFetching()
    {
        await _cache.GetAsync("k", Fetch("t1", Hour), CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(40));
        var result = await _cache.GetAsync("k", Fetch("t2", Hour), CancellationToken.None);
        Assert.Equal("t1", ((TokenOutcome.AccessToken)result).Value);
        Assert.Equal(1, _fetches);
    }

    [Fact]
    public async Task GetAsync_OnceRefreshIsDue_ServesTheOldTokenAndRefreshesOnceInTheBackground()
    {
        await _cache.GetAsync("k", Fetch("t1", Hour), CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(47)); // 20 % of an hour = 12 min margin, jitter 0.5 × 5 % = 1.5 min: due at 46.5 min
        var gate = new TaskCompletionSource<TokenOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        var refreshes = 0;
        for (var i = 0; i < 10; i++)
        {
            var result = await _cache.GetAsync("k", _ => { Interlocked.Increment(ref refreshes); return gate.Task; }, CancellationToken.None);
            Assert.Equal("t1", ((TokenOutcome.AccessToken)result).Value);
        }

        gate.SetResult(Token("t2", Hour));
        await WaitUntilAsync(async () => ((TokenOutcome.AccessToken)await _cache.GetAsync("k", Fetch("t3", Hour), CancellationToken.None)).Value == "t2");
        Assert.Equal(1, refreshes);
    }

    [Theory]
    [InlineData(0.0, 48.0)]
    [InlineData(1.0, 45.0)]
    public void RefreshAt_IsTwentyPercentBeforeExpiryLessUpToFivePercentJitter(double random, double minutesAfterIssue)
    {
        var issued = _time.GetUtcNow();
        var token = new CachedToken(new TokenOutcome.AccessToken("t", issued + Hour), issued);
        Assert.Equal(issued + TimeSpan.FromMinutes(minutesAfterIssue), new TokenCachePolicy(() => random).RefreshAt(token));
    }

    [Fact]
    public void RefreshAt_ShortLivedToken_KeepsAtLeastFiveMinutes()
    {
        var issued = _time.GetUtcNow();
        var token = new CachedToken(new TokenOutcome.AccessToken("t", issued + TimeSpan.FromMinutes(10)), issued);
        Assert.Equal(issued + TimeSpan.FromMinutes(5), new TokenCachePolicy(() => 0).RefreshAt(token));
    }

    [Fact]
    public async Task GetAsync_RefreshFailsWithMoreThanFiveMinutesLeft_KeepsServingTheOldToken()
    {
        await _cache.GetAsync("k", Fetch("t1", Hour), CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(50));
        var failing = Refuse();
        for (var i = 0; i < 3; i++)
        {
            var result = await _cache.GetAsync("k", failing, CancellationToken.None);
            Assert.Equal("t1", ((TokenOutcome.AccessToken)result).Value);
        }
    }

    [Fact]
    public async Task GetAsync_AfterAFailedRefresh_WaitsBeforeTryingAgain()
    {
        await _cache.GetAsync("k", Fetch("t1", Hour), CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(50));
        var attempts = 0;
        Func<CancellationToken, Task<TokenOutcome>> failing = _ =>
        {
            Interlocked.Increment(ref attempts);
            return Task.FromResult<TokenOutcome>(new TokenOutcome.Refused(TokenRefusal.UpstreamUnavailable, "down"));
        };
        await _cache.GetAsync("k", failing, CancellationToken.None); // due: starts the background refresh, which fails
        await WaitUntilAsync(() => Task.FromResult(Volatile.Read(ref attempts) == 1 && !_cache.IsFetching("k"))); // the failure is recorded
        for (var i = 0; i < 5; i++)
            Assert.Equal("t1", ((TokenOutcome.AccessToken)await _cache.GetAsync("k", failing, CancellationToken.None)).Value);
        Assert.Equal(1, attempts);

        _time.Advance(TokenCachePolicy.RetryAfterFailure * 2);
        await _cache.GetAsync("k", failing, CancellationToken.None);
        await WaitUntilAsync(() => Task.FromResult(Volatile.Read(ref attempts) == 2));
    }

    [Fact]
    public async Task GetAsync_UnderFiveMinutesLeftAndRefreshFails_IsTheRefusal()
    {
        await _cache.GetAsync("k", Fetch("t1", Hour), CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(56));
        var result = await _cache.GetAsync("k", Refuse(), CancellationToken.None);
        Assert.IsType<TokenOutcome.Refused>(result);
    }

    [Fact]
    public async Task GetAsync_UnderFiveMinutesLeft_WaitsForTheNewToken()
    {
        await _cache.GetAsync("k", Fetch("t1", Hour), CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(56));
        var result = await _cache.GetAsync("k", Fetch("t2", Hour), CancellationToken.None);
        Assert.Equal("t2", ((TokenOutcome.AccessToken)result).Value);
    }

    [Fact]
    public async Task RefreshDue_TokensInUse_AreRenewedBeforeAnyoneAsks()
    {
        var start = _time.GetUtcNow();
        await _cache.GetAsync("k", Fetch("t1", Hour), CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(30));
        Assert.Equal(0, _cache.RefreshDue()); // not due yet

        _time.Advance(TimeSpan.FromMinutes(17)); // due at 46.5 min
        Assert.Equal(1, _cache.RefreshDue());
        await WaitUntilAsync(() => Task.FromResult(Volatile.Read(ref _fetches) == 2));

        // A client coming back 3 min 45 s before the first token's expiry gets the renewed token at once.
        _time.Advance(TimeSpan.FromMinutes(9));
        var result = await _cache.GetAsync("k", _ => throw new InvalidOperationException("must not fetch"), CancellationToken.None);
        Assert.Equal(start + TimeSpan.FromMinutes(47) + Hour, ((TokenOutcome.AccessToken)result).ExpiresAt);
    }

    [Fact]
    public async Task RefreshDue_TokensNobodyAskedForInALifetime_AreLeftToExpire()
    {
        await _cache.GetAsync("k", Fetch("t1", Hour), CancellationToken.None);
        _time.Advance(TimeSpan.FromHours(2));
        Assert.Equal(0, _cache.RefreshDue());
    }

    [Fact]
    public async Task GetAsync_AfterARefusal_AnswersItAgainUntilTheRetryTime()
    {
        var attempts = 0;
        Func<CancellationToken, Task<TokenOutcome>> refusing = _ =>
        {
            Interlocked.Increment(ref attempts);
            return Task.FromResult<TokenOutcome>(new TokenOutcome.Refused(TokenRefusal.UpstreamRejected, "no binding"));
        };
        for (var i = 0; i < 5; i++)
            Assert.IsType<TokenOutcome.Refused>(await _cache.GetAsync("k", refusing, CancellationToken.None));
        Assert.Equal(1, attempts);

        _time.Advance(TokenCachePolicy.RetryAfterFailure * 2);
        await _cache.GetAsync("k", refusing, CancellationToken.None);
        Assert.Equal(2, attempts);
    }

    [Fact]
    public async Task PrefetchAsync_AfterARefusal_AnswersItUntilTheRetryTimeWithoutFetching()
    {
        var attempts = 0;
        Func<CancellationToken, Task<TokenOutcome>> refusing = _ =>
        {
            Interlocked.Increment(ref attempts);
            return Task.FromResult<TokenOutcome>(new TokenOutcome.Refused(TokenRefusal.UpstreamRejected, "no binding"));
        };
        Assert.IsType<TokenOutcome.Refused>(await _cache.PrefetchAsync("k", refusing));

        // Each pod event prefetches: a refused account's events must not each cost Google a call.
        for (var i = 0; i < 5; i++)
            Assert.Equal(TokenRefusal.UpstreamRejected, Assert.IsType<TokenOutcome.Refused>(await _cache.PrefetchAsync("k", refusing)).Reason);
        Assert.Equal(1, attempts);

        _time.Advance(TokenCachePolicy.RetryAfterFailure * 2);
        await _cache.PrefetchAsync("k", refusing);
        Assert.Equal(2, attempts);
    }

    [Fact]
    public async Task Evict_KeysNoLongerInUse_AreForgotten()
    {
        await _cache.GetAsync("used", Fetch("t1", Hour), CancellationToken.None);
        await _cache.GetAsync("unused", Fetch("t2", Hour), CancellationToken.None);
        Assert.Equal(1, _cache.Evict(k => k == "used"));
        Assert.Equal(["used"], _cache.Keys);
    }

    [Fact]
    public async Task GetAsync_OverCapacity_DropsTheLeastRecentlyUsedKey()
    {
        var small = new TokenCache<string>(new TokenCachePolicy(() => 0), _time, capacity: 2);
        await small.GetAsync("a", Fetch("a", Hour), CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(1));
        await small.GetAsync("b", Fetch("b", Hour), CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(1));
        await small.GetAsync("c", Fetch("c", Hour), CancellationToken.None);
        Assert.Equal(["b", "c"], small.Keys.Order());
    }

    [Fact]
    public async Task GetAsync_OneGroupPastItsShare_EvictsOnlyItsOwnKeys()
    {
        var grouped = new TokenCache<string>(new TokenCachePolicy(() => 0), _time, capacity: 100, groupOf: k => k.Split('/')[0], groupCapacity: 2);
        await grouped.GetAsync("other/a", Fetch("o", Hour), CancellationToken.None);
        foreach (var key in new[] { "noisy/1", "noisy/2", "noisy/3", "noisy/4" })
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await grouped.GetAsync(key, Fetch(key, Hour), CancellationToken.None);
        }

        Assert.Equal(["noisy/3", "noisy/4", "other/a"], grouped.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task GetAsync_FetchThrows_IsUnavailableNotAnException()
    {
        var result = await _cache.GetAsync("k", _ => throw new InvalidOperationException("boom"), CancellationToken.None);
        Assert.Equal(TokenRefusal.UpstreamUnavailable, ((TokenOutcome.Refused)result).Reason);
    }

    [Fact]
    public async Task GetAsync_LastWaiterLeaves_AbandonsTheFetchAndRemembersNothing()
    {
        var fetchToken = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var caller = new CancellationTokenSource();
        var waiting = _cache.GetAsync("k", async ct =>
        {
            fetchToken.SetResult(ct);
            await Task.Delay(Timeout.Infinite, ct);
            return Token("never", Hour);
        }, caller.Token);
        var abandoned = await fetchToken.Task;

        await caller.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.True(abandoned.IsCancellationRequested);
        // The abandoned fetch's failure says nothing about Google: the next caller fetches at once.
        var next = await _cache.GetAsync("k", Fetch("t1", Hour), CancellationToken.None);
        Assert.Equal("t1", ((TokenOutcome.AccessToken)next).Value);
    }

    [Fact]
    public async Task GetAsync_OneOfTwoWaitersLeaves_TheFetchGoesOnForTheOther()
    {
        var gate = new TaskCompletionSource<TokenOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        var fetchToken = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var leaver = new CancellationTokenSource();
        Func<CancellationToken, Task<TokenOutcome>> fetch = ct => { fetchToken.TrySetResult(ct); return gate.Task; };
        var leaving = _cache.GetAsync("k", fetch, leaver.Token);
        var staying = _cache.GetAsync("k", fetch, CancellationToken.None);
        var token = await fetchToken.Task;

        await leaver.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leaving);

        Assert.False(token.IsCancellationRequested);
        gate.SetResult(Token("t1", Hour));
        Assert.Equal("t1", ((TokenOutcome.AccessToken)await staying).Value);
    }

    [Fact]
    public async Task PrefetchAsync_CallerJoinsAndLeaves_TheFetchIsKept()
    {
        var gate = new TaskCompletionSource<TokenOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        var fetchToken = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        Func<CancellationToken, Task<TokenOutcome>> fetch = ct => { fetchToken.TrySetResult(ct); return gate.Task; };
        var prefetch = _cache.PrefetchAsync("k", fetch);
        using var caller = new CancellationTokenSource();
        var waiting = _cache.GetAsync("k", fetch, caller.Token);
        var token = await fetchToken.Task;

        await caller.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);

        Assert.False(token.IsCancellationRequested);
        gate.SetResult(Token("t1", Hour));
        Assert.Equal("t1", ((TokenOutcome.AccessToken)await prefetch).Value);
    }

    [Fact]
    public async Task GetAsync_GoogleBackAfterAnOutage_FirstRequestAfterTheShortMemoryFetchesAndSucceeds()
    {
        var cache = new TokenCache<string>(new TokenCachePolicy(() => 1.0) { UnavailableMemory = TimeSpan.FromSeconds(1) }, _time);
        var down = true;
        var attempts = 0;
        Func<CancellationToken, Task<TokenOutcome>> google = _ =>
        {
            Interlocked.Increment(ref attempts);
            return Task.FromResult<TokenOutcome>(down ? new TokenOutcome.Refused(TokenRefusal.UpstreamUnavailable, "503") : Token("t1", Hour));
        };
        Assert.IsType<TokenOutcome.Refused>(await cache.GetAsync("k", google, CancellationToken.None));
        _time.Advance(TimeSpan.FromMilliseconds(900));
        Assert.IsType<TokenOutcome.Refused>(await cache.GetAsync("k", google, CancellationToken.None)); // remembered, Google not asked
        Assert.Equal(1, attempts);

        down = false;
        _time.Advance(TimeSpan.FromMilliseconds(100)); // the Retry-After (1 s) a client was given has passed

        var recovered = await cache.GetAsync("k", google, CancellationToken.None);
        Assert.Equal("t1", ((TokenOutcome.AccessToken)recovered).Value);
        Assert.Equal(2, attempts);
    }

    [Fact]
    public async Task GetAsync_RejectionWithoutToken_IsStillRememberedForTheLongRetry()
    {
        var cache = new TokenCache<string>(new TokenCachePolicy(() => 0.0) { UnavailableMemory = TimeSpan.FromSeconds(1) }, _time);
        var attempts = 0;
        Func<CancellationToken, Task<TokenOutcome>> refusing = _ =>
        {
            Interlocked.Increment(ref attempts);
            return Task.FromResult<TokenOutcome>(new TokenOutcome.Refused(TokenRefusal.UpstreamRejected, "no binding"));
        };
        await cache.GetAsync("k", refusing, CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(4)); // past the unavailable memory, inside 10 s × 0.5

        Assert.Equal(TokenRefusal.UpstreamRejected, ((TokenOutcome.Refused)await cache.GetAsync("k", refusing, CancellationToken.None)).Reason);
        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task GetAsync_ThrottledRefusal_IsNotRemembered()
    {
        var attempts = 0;
        Func<CancellationToken, Task<TokenOutcome>> throttledOnce = _ => Task.FromResult<TokenOutcome>(Interlocked.Increment(ref attempts) == 1
            ? new TokenOutcome.Refused(TokenRefusal.Throttled, "over its share")
            : Token("t1", Hour));

        Assert.Equal(TokenRefusal.Throttled, ((TokenOutcome.Refused)await _cache.GetAsync("k", throttledOnce, CancellationToken.None)).Reason);
        Assert.Equal("t1", ((TokenOutcome.AccessToken)await _cache.GetAsync("k", throttledOnce, CancellationToken.None)).Value);
    }

    [Fact]
    public async Task GetAsync_GroupEvictedThenRefilled_KeepsCountingOnlyItsOwnKeys()
    {
        var grouped = new TokenCache<string>(new TokenCachePolicy(() => 0), _time, capacity: 100, groupOf: k => k.Split('/')[0], groupCapacity: 1);
        await grouped.GetAsync("a/1", Fetch("1", Hour), CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(1));
        await grouped.GetAsync("a/2", Fetch("2", Hour), CancellationToken.None);
        Assert.Equal(1, grouped.Evict(k => !k.StartsWith("a/", StringComparison.Ordinal)));
        await grouped.GetAsync("a/3", Fetch("3", Hour), CancellationToken.None);
        await grouped.GetAsync("b/1", Fetch("4", Hour), CancellationToken.None);

        Assert.Equal(["a/3", "b/1"], grouped.Keys.Order(StringComparer.Ordinal));
        Assert.True(grouped.Contains("a/3"));
        Assert.False(grouped.Contains("a/1"));
    }

    private Func<CancellationToken, Task<TokenOutcome>> Fetch(string value, TimeSpan lifetime) => _ =>
    {
        Interlocked.Increment(ref _fetches);
        return Task.FromResult<TokenOutcome>(Token(value, lifetime));
    };

    private static Func<CancellationToken, Task<TokenOutcome>> Refuse() =>
        _ => Task.FromResult<TokenOutcome>(new TokenOutcome.Refused(TokenRefusal.UpstreamUnavailable, "down"));

    private TokenOutcome.AccessToken Token(string value, TimeSpan lifetime) => new(value, _time.GetUtcNow() + lifetime);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 200; i++)
        {
            if (await condition())
                return;
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        Assert.Fail("the condition never held");
    }
}
