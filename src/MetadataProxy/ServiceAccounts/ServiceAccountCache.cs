using System.Collections.Concurrent;
using k8s;
using k8s.Autorest;
using MetadataProxy.Identity;
using MetadataProxy.Kubernetes;
using Microsoft.Extensions.Options;

namespace MetadataProxy.ServiceAccounts;

/// <summary>
/// ServiceAccounts read one at a time, only those local pods use (decision 3: nothing cluster-wide is watched),
/// kept for <c>Identity:ServiceAccountCacheTtl</c>. One read per account at a time; when the API server fails,
/// the last good answer keeps serving, and that account is not read again before its retry time (back-off, and at
/// least the API server's Retry-After), however many requests and pod events ask meanwhile.
/// </summary>
internal sealed partial class ServiceAccountCache(
    IKubernetes client,
    KubernetesCallLimiter limiter,
    IOptions<IdentityOptions> options,
    TimeProvider time,
    BackoffJitter jitter,
    MetadataProxy.Metadata.MetadataChangeNotifier changes,
    ILogger<ServiceAccountCache> logger)
{
    /// <summary>The wait after an account's first failed read; it doubles with each failure in a row, to <see cref="RetryDelayMax"/>.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan RetryDelayMax = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<(string Namespace, string Name), ServiceAccountState> _entries = new();
    private readonly ConcurrentDictionary<(string Namespace, string Name), Lazy<Task<ServiceAccountState>>> _reads = new();
    private readonly ConcurrentDictionary<(string Namespace, string Name), (int Failures, DateTimeOffset RetryAt)> _failed = new();

    public IEnumerable<(string Namespace, string Name)> Keys => _entries.Keys;

    /// <summary>
    /// The account as last read. Only an account never read makes the caller wait; one older than the TTL is read
    /// again in the background while the last answer serves (principle 4: the hot path never waits on Kubernetes).
    /// </summary>
    public async Task<ServiceAccountState> GetAsync(string ns, string name, CancellationToken cancellationToken) =>
        Known(ns, name) ?? await ReadAsync((ns, name)).WaitAsync(cancellationToken);

    /// <summary>The account as last read, without waiting (a stale one is re-read in the background); null when never read.</summary>
    public ServiceAccountState? Known(string ns, string name)
    {
        if (!_entries.TryGetValue((ns, name), out var cached) || cached is ServiceAccountState.Unavailable)
            return null;
        if (IsStale(cached))
            _ = ReadAsync((ns, name));
        return cached;
    }

    /// <summary>Reads an account ahead of its first request (a pod that uses it appeared), or again before it goes stale.</summary>
    public void Refresh(string ns, string name) => _ = ReadAsync((ns, name));

    /// <summary>The age past which the refresher reads an account again, so requests seldom wait for a read.</summary>
    public bool IsDueForRefresh(string ns, string name) =>
        !_entries.TryGetValue((ns, name), out var state) || time.GetUtcNow() - state.ReadAt > options.Value.ServiceAccountCacheTtl / 2;

    /// <summary>Whether a read of the account is under way (its outcome, and any retry time, not yet recorded).</summary>
    public bool IsReading(string ns, string name) => _reads.ContainsKey((ns, name));

    public void Forget(string ns, string name)
    {
        _entries.TryRemove((ns, name), out _);
        _failed.TryRemove((ns, name), out _);
    }

    private bool IsStale(ServiceAccountState state) => time.GetUtcNow() - state.ReadAt > options.Value.ServiceAccountCacheTtl;

    private Task<ServiceAccountState> ReadAsync((string Namespace, string Name) key)
    {
        // After a failed read, the account's last answer (the state before, or "unavailable") stands until its retry
        // time: without this every request for a stale account, and every waiting one, sent another read to an API
        // server that was failing or had asked us to wait.
        if (_failed.TryGetValue(key, out var failed) && time.GetUtcNow() < failed.RetryAt && _entries.TryGetValue(key, out var last))
            return Task.FromResult(last);
        var read = _reads.GetOrAdd(key, k => new Lazy<Task<ServiceAccountState>>(() => ReadOnceAsync(k)));
        return read.Value;
    }

    private async Task<ServiceAccountState> ReadOnceAsync((string Namespace, string Name) key)
    {
        try
        {
            var (state, retryAfter) = await FetchAsync(key);
            if (state is ServiceAccountState.Unavailable unavailable)
            {
                var failures = _failed.TryGetValue(key, out var failed) ? failed.Failures + 1 : 1;
                var delay = Backoff.Delay(failures, RetryDelay, RetryDelayMax, jitter.Next());
                if (retryAfter > delay)
                    delay = retryAfter.Value;
                _failed[key] = (failures, time.GetUtcNow() + delay);
                Log.ReadFailed(logger, key.Namespace, key.Name, unavailable.Reason, failures, delay.TotalSeconds);
                if (_entries.TryGetValue(key, out var previous) && previous is not ServiceAccountState.Unavailable)
                    return previous; // The API server is down: what was true a moment ago is the best answer there is.
            }
            else
            {
                _failed.TryRemove(key, out _);
            }

            var before = _entries.GetValueOrDefault(key);
            _entries[key] = state;
            if (before is ServiceAccountState.Found old && (state is not ServiceAccountState.Found now || now.Uid != old.Uid || now.Annotations != old.Annotations))
                changes.NotifyChanged(); // W-2: a caller's email or scopes may have changed.
            return state;
        }
        finally
        {
            _reads.TryRemove(key, out _);
        }
    }

    /// <summary>The account as read now; for a failed read, also how long the API server asked us to wait (429, 503).</summary>
    private async Task<(ServiceAccountState State, TimeSpan? RetryAfter)> FetchAsync((string Namespace, string Name) key)
    {
        // Inside the clients' 3 s budget, for the one request that has to wait for a first read.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(1.5), time);
        try
        {
            using var slot = await limiter.EnterAsync(deadline.Token);
            var account = await client.CoreV1.ReadNamespacedServiceAccountAsync(key.Name, key.Namespace, cancellationToken: deadline.Token);
            var annotations = ServiceAccountAnnotations.Parse(account.Metadata.Annotations, out var problem);
            return (new ServiceAccountState.Found(account.Metadata.Uid, annotations, problem, time.GetUtcNow()), null);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return (new ServiceAccountState.Missing(time.GetUtcNow()), null);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Whatever went wrong (HTTP, timeout, a payload that does not parse), waiters get "unavailable", not an exception.
            return (new ServiceAccountState.Unavailable(e.Message, time.GetUtcNow()), RetryAfter.Of(e));
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read ServiceAccount {Namespace}/{Name}: {Reason} ({Failures} failed in a row; not read again for {RetryInSeconds} s, the last answer serves meanwhile)")]
        public static partial void ReadFailed(ILogger logger, string @namespace, string name, string reason, int failures, double retryInSeconds);
    }
}
