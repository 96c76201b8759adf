using k8s;
using k8s.Models;
using MetadataProxy.Kubernetes;

namespace MetadataProxy.PullSecrets;

/// <summary>
/// One term's view of the cluster's ServiceAccounts, as client-go's reflector keeps it: a list in chunks of
/// <c>PullSecrets:ListPageSize</c>, then a watch from the list's resourceVersion (bookmarks advance it) whose events
/// mark accounts changed and wake the controller at once. The feed only reports; the controller decides what an
/// ended watch means (<see cref="WatchEnd"/>): resume, relist or back off. It times each watch on
/// <see cref="TimeProvider"/> to tell a normal end from one closed at once.
/// </summary>
internal sealed class AccountFeed(IKubernetes client, int pageSize, TimeProvider time) : IDisposable
{
    /// <summary>Server-side watch timeout: a healthy watch ends and is resumed at least this often.</summary>
    private const int WatchTimeoutSeconds = 300;

    /// <summary>
    /// A watch that has sent nothing (no event, no bookmark) and not ended for this long is a stalled connection, not a
    /// quiet cluster: the server ends every watch within <see cref="WatchTimeoutSeconds"/>.
    /// </summary>
    public static readonly TimeSpan SilenceLimit = TimeSpan.FromSeconds(WatchTimeoutSeconds + 60);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, V1ServiceAccount> _accounts = new(StringComparer.Ordinal);
    private readonly HashSet<string> _changed = new(StringComparer.Ordinal);
    private readonly HashSet<string> _deleted = new(StringComparer.Ordinal);
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource? _watching;
    private string _resourceVersion = "";
    private WatchEnd? _ended;
    private bool _heard;

    /// <summary>Completes when something arrived since the last <see cref="Take"/>.</summary>
    public Task Wake
    {
        get
        {
            lock (_gate)
            {
                return _wake.Task;
            }
        }
    }

    public bool Watching
    {
        get
        {
            lock (_gate)
            {
                return _watching is not null;
            }
        }
    }

    /// <summary>Every account, in chunks; replaces what the feed knew. Returns how many there are.</summary>
    public async Task<int> ListAsync(CancellationToken cancellationToken)
    {
        StopWatch();
        var listed = new Dictionary<string, V1ServiceAccount>(StringComparer.Ordinal);
        string? next = null;
        string resourceVersion;
        do
        {
            // No resourceVersion: the first chunk is the most recent state (a consistent read), later chunks follow its
            // continue token at that same version, so a relist can never answer an older state than the feed has seen
            // (resourceVersion=0 could: a watch cache that is behind; it would also ignore the limit).
            var chunk = await client.CoreV1.ListServiceAccountForAllNamespacesAsync(continueParameter: next, limit: pageSize, cancellationToken: cancellationToken);
            foreach (var account in chunk.Items)
                listed[KeyOf(account)] = account;
            resourceVersion = chunk.Metadata.ResourceVersion;
            next = chunk.Metadata.ContinueProperty;
        }
        while (!string.IsNullOrEmpty(next));

        lock (_gate)
        {
            _accounts.Clear();
            foreach (var (key, account) in listed)
                _accounts[key] = account;
            _changed.Clear();
            _deleted.Clear();
            _ended = null;
            _resourceVersion = resourceVersion;
        }

        return listed.Count;
    }

    /// <summary>Starts watching from the last resourceVersion seen (the list's, or a later event's or bookmark's).</summary>
    public void StartWatch(CancellationToken term)
    {
        StopWatch();
        CancellationTokenSource watching;
        string from;
        lock (_gate)
        {
            _watching = watching = CancellationTokenSource.CreateLinkedTokenSource(term);
            _ended = null;
            from = _resourceVersion;
        }

        _ = PumpAsync(from, watching, watching.Token);
    }

    /// <summary>Stops the running watch, if any. Whoever takes the source out of <c>_watching</c> (this, or the pump as
    /// it ends) disposes it; the pump itself only ever uses the token it was started with.</summary>
    public void StopWatch()
    {
        CancellationTokenSource? watching;
        lock (_gate)
        {
            watching = _watching;
            _watching = null;
        }

        if (watching is null)
            return;

        watching.Cancel();
        watching.Dispose();
    }

    /// <summary>What arrived since the last call: accounts added or changed (as they are now), accounts deleted, how the watch ended (if it did).</summary>
    public FeedChanges Take()
    {
        lock (_gate)
        {
            var changes = new FeedChanges([.. _changed.Select(k => _accounts[k])], [.. _deleted], _ended, _heard);
            _changed.Clear();
            _deleted.Clear();
            _ended = null;
            _heard = false;
            if (_wake.Task.IsCompleted)
                _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return changes;
        }
    }

    /// <summary>Every account the feed knows, as it is now.</summary>
    public IReadOnlyList<V1ServiceAccount> All()
    {
        lock (_gate)
        {
            return [.. _accounts.Values];
        }
    }

    public V1ServiceAccount? Find(string key)
    {
        lock (_gate)
        {
            return _accounts.GetValueOrDefault(key);
        }
    }

    public static string KeyOf(V1ServiceAccount account) => $"{account.Metadata.NamespaceProperty}/{account.Metadata.Name}";

    private async Task PumpAsync(string from, CancellationTokenSource watching, CancellationToken token)
    {
        var end = await WatchAsync(from, watching, token);
        lock (_gate)
        {
            if (_watching != watching)
                return; // stopped on purpose (a relist, a new watch, the end of the term): the stopper disposes it
            _watching = null;
            _ended = end ?? WatchEnd.Closed;
            _wake.TrySetResult();
        }

        watching.Dispose();
    }

    /// <summary>Applies events until the stream ends; how it ended, or null when it was stopped.</summary>
    private async Task<WatchEnd?> WatchAsync(string from, CancellationTokenSource watching, CancellationToken token)
    {
        KubernetesException? error = null;
        var attempt = new WatchAttempt(time);
        try
        {
            var stream = client.CoreV1.WatchListServiceAccountForAllNamespacesAsync(
                allowWatchBookmarks: true,
                resourceVersion: from,
                timeoutSeconds: WatchTimeoutSeconds,
                onError: e => error ??= e as KubernetesException ?? new KubernetesException(e.Message, e),
                cancellationToken: token);
            await foreach (var (type, account) in stream.WithCancellation(token))
            {
                attempt.Heard();
                Apply(type, account, watching);
            }

            return error switch
            {
                not null when ExpiredWatch.Is(error) => WatchEnd.Expired,
                not null => WatchEnd.Failed(error),
                _ when attempt.EndedEarly => WatchEnd.ClosedEarly,
                _ => WatchEnd.Closed,
            };
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception e)
        {
            if (ExpiredWatch.Is(e))
                return WatchEnd.Expired; // the watch request itself was answered 410: relist too
            if (WatchAttempt.IsEmptyEnd(e))
                return attempt.EndedEarly ? WatchEnd.ClosedEarly : WatchEnd.Closed; // answered 200, ended before a first line
            return WatchEnd.Failed(e);
        }
    }

    private void Apply(WatchEventType type, V1ServiceAccount account, CancellationTokenSource watching)
    {
        lock (_gate)
        {
            if (_watching != watching)
                return; // a stale stream's last words
            _heard = true;
            if (account.Metadata?.ResourceVersion is { Length: > 0 } version)
                _resourceVersion = version;
            if (type is WatchEventType.Added or WatchEventType.Modified)
            {
                var key = KeyOf(account);
                _accounts[key] = account;
                _changed.Add(key);
                _deleted.Remove(key);
            }
            else if (type is WatchEventType.Deleted)
            {
                var key = KeyOf(account);
                _accounts.Remove(key);
                _changed.Remove(key);
                _deleted.Add(key);
            }
            else
            {
                return; // a bookmark: only the resourceVersion moves
            }

            _wake.TrySetResult();
        }
    }

    public void Dispose() => StopWatch();
}

/// <summary>What the feed saw since the controller last looked.</summary>
internal sealed record FeedChanges(IReadOnlyList<V1ServiceAccount> Changed, IReadOnlyList<string> Deleted, WatchEnd? Ended, bool Heard);
