using k8s;
using k8s.Autorest;
using k8s.Models;
using MetadataProxy.Operations;
using Microsoft.Extensions.Options;

namespace MetadataProxy.PullSecrets;

/// <summary>
/// The leader's loop: every <c>ResyncInterval</c> it lists the ServiceAccounts and looks at each; in between it wakes
/// when an account's Secret is due (half its token's life, or a retry). It writes only inside a term of the
/// <see cref="LeaseElector"/>; a new term starts from what the Secrets themselves say.
/// </summary>
internal sealed partial class PullSecretController(
    LeaseElector elector,
    IKubernetes client,
    PullSecretReconciler reconciler,
    ProxyMetrics metrics,
    RetryJitter jitter,
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
        metrics.ObservePullSecrets(Summary);
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
            await LeadAsync(linked.Token);
            Volatile.Write(ref _published, []);
        }
    }

    private async Task LeadAsync(CancellationToken term)
    {
        IList<V1ServiceAccount> known = [];
        var nextResync = time.GetUtcNow();
        var listFailures = 0;
        while (!term.IsCancellationRequested)
        {
            var now = time.GetUtcNow();
            var resync = now >= nextResync;
            try
            {
                if (resync)
                {
                    known = (await client.CoreV1.ListServiceAccountForAllNamespacesAsync(cancellationToken: term)).Items;
                    listFailures = 0;
                    nextResync = now + options.Value.ResyncInterval;
                }

                await PassAsync(known, resync, now, term);
            }
            catch (Exception e) when (e is HttpOperationException or HttpRequestException or IOException
                                          || (e is OperationCanceledException && !term.IsCancellationRequested))
            {
                listFailures++;
                nextResync = time.GetUtcNow() + jitter.Delay(listFailures, options.Value.RetryDelay, options.Value.RetryDelayMax);
                Log.ListFailed(logger, e.Message);
            }
            catch (OperationCanceledException) when (term.IsCancellationRequested)
            {
                return;
            }

            Volatile.Write(ref _published, [.. _accounts.Values]);
            var wake = _accounts.Values.Select(a => a.DueAt).Append(nextResync).Min();
            var wait = wake - time.GetUtcNow();
            if (wait <= TimeSpan.Zero)
                continue;
            try
            {
                await Timer.SleepAsync(wait, time, term);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Each account that is due, or every one on a resync; accounts that are gone are forgotten (their Secret is owned by them).</summary>
    private async Task PassAsync(IList<V1ServiceAccount> accounts, bool resync, DateTimeOffset now, CancellationToken term)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var account in accounts)
        {
            var key = $"{account.Metadata.NamespaceProperty}/{account.Metadata.Name}";
            seen.Add(key);
            var previous = _accounts.GetValueOrDefault(key);
            if (!resync && (previous is null || previous.DueAt > now))
                continue;
            try
            {
                var state = await reconciler.ReconcileAsync(account, previous, managedBefore: previous is not null, term);
                if (state is null)
                    _accounts.Remove(key);
                else
                    _accounts[key] = state;
            }
            catch (Exception e) when (e is HttpOperationException or HttpRequestException or IOException
                                          || (e is OperationCanceledException && !term.IsCancellationRequested))
            {
                var failures = (previous?.Failures ?? 0) + 1;
                metrics.PullSecretRefresh("kubernetes_unavailable");
                Log.AccountFailed(logger, key, e.Message);
                _accounts[key] = new AccountState(PullSecretState.Failing, time.GetUtcNow() + jitter.Delay(failures, options.Value.RetryDelay, options.Value.RetryDelayMax),
                    failures, previous?.ExpiresAt, previous?.Fingerprint ?? "");
            }
        }

        if (resync)
        {
            foreach (var gone in _accounts.Keys.Where(k => !seen.Contains(k)).ToList())
                _accounts.Remove(gone);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not list ServiceAccounts: {Error}")]
        public static partial void ListFailed(ILogger logger, string error);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not bring the pull Secret of {Account} up to date: {Error}")]
        public static partial void AccountFailed(ILogger logger, string account, string error);
    }
}
