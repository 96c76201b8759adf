using k8s;
using k8s.Autorest;
using k8s.Models;
using MetadataProxy.Kubernetes;
using MetadataProxy.Operations;
using Microsoft.Extensions.Options;

namespace MetadataProxy.PullSecrets;

/// <summary>
/// The leader's loop. It lists the ServiceAccounts (in chunks) and watches them from the list's resourceVersion
/// (<see cref="AccountFeed"/>): an added or changed account is looked at as soon as its event arrives, a deleted one
/// is forgotten (its Secret is owned by it). In between it wakes when an account's Secret is due (half its token's
/// life, or a retry). A watch that ends resumes from the last resourceVersion; 410 relists (at once the first time, after
/// the back-off when the watch after that relist is refused 410 too, nothing delivered in between); failures, and a
/// watch closed at once with nothing delivered, back off with jitter. Every <c>ResyncInterval</c> it looks at every account it knows again (client-go's resync: from what the
/// list and watch delivered, without asking the API server), the safety net for a pass that went wrong. It writes
/// only inside a term of the <see cref="LeaseElector"/>; a new term starts from what the Secrets themselves say.
/// </summary>
internal sealed partial class PullSecretController(
    LeaseElector elector,
    IKubernetes client,
    PullSecretReconciler reconciler,
    ProxyMetrics metrics,
    BackoffJitter jitter,
    IOptions<PullSecretsOptions> options,
    TimeProvider time,
    ILogger<PullSecretController> logger) : BackgroundService
{
    private readonly Dictionary<string, AccountState> _accounts = new(StringComparer.Ordinal);
    private IReadOnlyList<AccountState> _published = [];

    public LoopTimer Timer { get; } = new();

    /// <summary>Managed accounts by state, and the time left to the soonest expiry among the credentials their Secrets hold.</summary>
    private (int Current, int Failing, int Refused, TimeSpan? SoonestExpiry) Summary()
    {
        var states = Volatile.Read(ref _published);
        var soonest = states.Select(s => s.ExpiresAt).OfType<DateTimeOffset>().DefaultIfEmpty(DateTimeOffset.MaxValue).Min();
        return (states.Count(s => s.State == PullSecretState.Current), states.Count(s => s.State == PullSecretState.Failing),
            states.Count(s => s.State == PullSecretState.Refused), soonest == DateTimeOffset.MaxValue ? null : soonest - time.GetUtcNow());
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        metrics.ObservePullSecrets(Summary, () => elector.IsLeader);
        while (!stoppingToken.IsCancellationRequested)
        {
            CancellationToken term;
            try
            {
                term = await elector.ElectedAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            using var linked = CancellationTokenSource.CreateLinkedTokenSource(term, stoppingToken);
            _accounts.Clear();
            using (var feed = new AccountFeed(client, options.Value.ListPageSize, time))
                await LeadAsync(feed, linked.Token);
            Volatile.Write(ref _published, []);
        }
    }

    private async Task LeadAsync(AccountFeed feed, CancellationToken term)
    {
        var backoff = new Backoff(options.Value.RetryDelay, options.Value.RetryDelayMax, jitter.Next);
        DateTimeOffset? relistAt = time.GetUtcNow();
        var resyncAt = time.GetUtcNow() + options.Value.ResyncInterval;
        DateTimeOffset? rewatchAt = null;
        var heardAt = time.GetUtcNow(); // the watch's last sign of life: its start, an event or a bookmark
        var expiredUnheard = false; // a 410 ended a watch and nothing was delivered since: another 410 backs off
        while (!term.IsCancellationRequested)
        {
            var now = time.GetUtcNow();
            try
            {
                var resync = now >= resyncAt || relistAt <= now;
                if (relistAt <= now)
                {
                    rewatchAt = null;
                    var count = await feed.ListAsync(term);
                    if (!expiredUnheard)
                        backoff.Reset(); // during a run of 410s only a delivered event resets it, or the pause never grows
                    relistAt = null;
                    Log.Listed(logger, count);
                    feed.StartWatch(term);
                    heardAt = now;
                }
                else if (rewatchAt <= now)
                {
                    rewatchAt = null;
                    feed.StartWatch(term);
                    heardAt = now;
                }

                var changes = feed.Take();
                if (changes.Heard)
                {
                    backoff.Reset();
                    expiredUnheard = false;
                    heardAt = now;
                }
                else if (changes.Ended is null && feed.Watching && now - heardAt >= AccountFeed.SilenceLimit)
                {
                    // A stalled connection delivers nothing and never ends: resume from the last resourceVersion on a new one.
                    metrics.PullSecretAccountWatchEnded("silent");
                    Log.Silent(logger, AccountFeed.SilenceLimit.TotalSeconds);
                    feed.StartWatch(term);
                    heardAt = now;
                }
                switch (changes.Ended)
                {
                    case WatchEnd.ExpiredEnd when expiredUnheard:
                        // 410 again with nothing delivered since the last one: relisting at once would spin.
                        metrics.PullSecretAccountWatchEnded("expired");
                        var again = backoff.Next();
                        Log.ExpiredAgain(logger, again.TotalSeconds);
                        relistAt = now + again;
                        break;
                    case WatchEnd.ExpiredEnd:
                        metrics.PullSecretAccountWatchEnded("expired");
                        Log.Expired(logger);
                        relistAt = now;
                        expiredUnheard = true;
                        break;
                    case WatchEnd.FailedEnd failed:
                        metrics.PullSecretAccountWatchEnded("failed");
                        var delay = Delay(backoff, failed.Error);
                        Log.WatchFailed(logger, failed.Error.Message, delay.TotalSeconds);
                        rewatchAt = now + delay;
                        break;
                    case WatchEnd.ClosedEnd:
                        metrics.PullSecretAccountWatchEnded("closed");
                        feed.StartWatch(term);
                        heardAt = now;
                        break;
                    case WatchEnd.ClosedEarlyEnd:
                        // Ended at once with nothing delivered: resuming at once would spin against the API server.
                        metrics.PullSecretAccountWatchEnded("closed_early");
                        var pause = backoff.Next();
                        Log.ClosedEarly(logger, pause.TotalSeconds);
                        rewatchAt = now + pause;
                        break;
                }

                foreach (var gone in changes.Deleted)
                    _accounts.Remove(gone);
                if (resync)
                    resyncAt = now + options.Value.ResyncInterval;
                await PassAsync(feed, resync ? feed.All() : changes.Changed, resync, now, term);
            }
            catch (Exception e) when (!term.IsCancellationRequested)
            {
                // Any failure (HTTP, a client-side timeout, a bad payload) is retried: a background loop must never stop the host.
                metrics.PullSecretAccountWatchEnded("list_failed");
                var delay = Delay(backoff, e);
                relistAt = time.GetUtcNow() + delay; // a failed list, or a loop that failed otherwise: start over from a list
                rewatchAt = null;
                Log.ListFailed(logger, e.Message, delay.TotalSeconds);
            }
            catch (OperationCanceledException) when (term.IsCancellationRequested)
            {
                return;
            }

            Volatile.Write(ref _published, [.. _accounts.Values]);
            var wake = _accounts.Values.Select(a => a.DueAt).Append(resyncAt).Append(relistAt ?? DateTimeOffset.MaxValue).Append(rewatchAt ?? DateTimeOffset.MaxValue)
                .Append(feed.Watching ? heardAt + AccountFeed.SilenceLimit : DateTimeOffset.MaxValue).Min();
            var wait = wake - time.GetUtcNow();
            if (wait <= TimeSpan.Zero)
                continue;
            try
            {
                await Timer.SleepAsync(wait, time, feed.Wake, term);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>The next back-off step, or longer when a throttling API server said when to come back.</summary>
    private static TimeSpan Delay(Backoff backoff, Exception error)
    {
        var delay = backoff.Next();
        return RetryAfter.Of(error) is { } asked && asked > delay ? asked : delay;
    }

    /// <summary>The accounts that changed and those that are due, or every one on a resync (forgetting any that are gone).</summary>
    private async Task PassAsync(AccountFeed feed, IReadOnlyList<V1ServiceAccount> changed, bool resync, DateTimeOffset now, CancellationToken term)
    {
        var look = changed.ToDictionary(AccountFeed.KeyOf, StringComparer.Ordinal);
        if (resync)
        {
            foreach (var gone in _accounts.Keys.Where(k => !look.ContainsKey(k)).ToList())
                _accounts.Remove(gone);
        }
        else
        {
            foreach (var (key, _) in _accounts.Where(a => a.Value.DueAt <= now && !look.ContainsKey(a.Key)).ToList())
            {
                if (feed.Find(key) is { } account)
                    look[key] = account;
                else
                    _accounts.Remove(key);
            }
        }

        foreach (var (key, account) in look)
            await ReconcileAsync(key, account, term);
    }

    /// <summary>
    /// One account's pass. Whatever goes wrong with it stays its own: it is retried with back-off, counted and logged
    /// once per step, and the pass goes on to the other accounts (a failure that ended the pass would meet the same
    /// account first again after the relist, and the accounts behind it would never be served). Only the end of the
    /// term ends the pass; an out-of-memory failure is not caught.
    /// </summary>
    private async Task ReconcileAsync(string key, V1ServiceAccount account, CancellationToken term)
    {
        var previous = _accounts.GetValueOrDefault(key);
        try
        {
            var state = await reconciler.ReconcileAsync(account, previous, managedBefore: previous is not null, term);
            if (state is null)
                _accounts.Remove(key);
            else
                _accounts[key] = state;
        }
        catch (Exception e) when (e is not OutOfMemoryException && !term.IsCancellationRequested)
        {
            var failures = (previous is { State: PullSecretState.Failing } ? previous.Failures : 0) + 1;
            var delay = Backoff.Delay(failures, options.Value.RetryDelay, options.Value.RetryDelayMax, jitter.Next());
            if (e is HttpOperationException or HttpRequestException or IOException or OperationCanceledException)
            {
                metrics.PullSecretRefresh("kubernetes_unavailable");
                Log.AccountFailed(logger, key, e.Message, failures, delay.TotalSeconds);
            }
            else
            {
                // A bug, or an answer the code cannot read: the stack trace is what its fix needs.
                metrics.PullSecretRefresh("unexpected_error");
                Log.AccountFailedUnexpectedly(logger, e, key, e.GetType().Name, failures, delay.TotalSeconds);
            }

            _accounts[key] = new AccountState(PullSecretState.Failing, time.GetUtcNow() + delay, failures, previous?.ExpiresAt, previous?.Fingerprint ?? "");
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Listed {Count} ServiceAccounts; watching them from here")]
        public static partial void Listed(ILogger logger, int count);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not list ServiceAccounts: {Error}; retrying in {DelaySeconds:0.0} s")]
        public static partial void ListFailed(ILogger logger, string error, double delaySeconds);

        [LoggerMessage(Level = LogLevel.Warning, Message = "ServiceAccount watch sent nothing for {Seconds} s and did not end; resuming it on a new connection")]
        public static partial void Silent(ILogger logger, double seconds);

        [LoggerMessage(Level = LogLevel.Information, Message = "ServiceAccount watch expired (410); relisting")]
        public static partial void Expired(ILogger logger);

        [LoggerMessage(Level = LogLevel.Warning, Message = "ServiceAccount watch expired (410) again with nothing delivered since the last relist; relisting in {DelaySeconds:0.0} s")]
        public static partial void ExpiredAgain(ILogger logger, double delaySeconds);

        [LoggerMessage(Level = LogLevel.Warning, Message = "ServiceAccount watch ended at once with no event or bookmark (closed early); resuming in {DelaySeconds:0.0} s")]
        public static partial void ClosedEarly(ILogger logger, double delaySeconds);

        [LoggerMessage(Level = LogLevel.Warning, Message = "ServiceAccount watch failed: {Error}; resuming in {DelaySeconds:0.0} s")]
        public static partial void WatchFailed(ILogger logger, string error, double delaySeconds);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not bring the pull Secret of {Account} up to date: {Error} (failure {Failures}); retrying in {DelaySeconds:0.0} s")]
        public static partial void AccountFailed(ILogger logger, string account, string error, int failures, double delaySeconds);

        [LoggerMessage(Level = LogLevel.Error, Message = "Could not bring the pull Secret of {Account} up to date: unexpected {ErrorType} (failure {Failures}); retrying in {DelaySeconds:0.0} s, the other accounts are served meanwhile")]
        public static partial void AccountFailedUnexpectedly(ILogger logger, Exception error, string account, string errorType, int failures, double delaySeconds);
    }
}
