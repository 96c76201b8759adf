using k8s;
using MetadataProxy.Kubernetes;
using MetadataProxy.Operations;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Pods;

/// <summary>
/// Keeps <see cref="PodIndex"/> equal to the pods on this node: list, then watch from the list's resourceVersion
/// with bookmarks; a 410 (an ERROR event, or the answer to the watch request itself) relists at once, but a 410 again
/// before anything was delivered since the last one backs off first (a server that keeps answering 410 must not be
/// relisted in a tight loop); a relist asks for no state older than the informer has seen (<see cref="RelistVersion"/>),
/// so an address never goes back to a pod the informer saw leave it; a broken stream,
/// or one closed at once with nothing delivered (<see cref="WatchAttempt"/>), resumes from the last resourceVersion
/// after a jittered back-off (capped at <c>Kubernetes:ReconnectDelayMax</c>, so the watch resumes promptly once the
/// API server is back). A watch that delivers neither an event nor a bookmark for twice
/// <c>Kubernetes:WatchBookmarkInterval</c> is silent: the index stops being current (the resolver then confirms
/// callers with the API server) and the watch restarts.
/// The logic follows YARP's ResourceInformer; KubernetesClient has no informer of its own.
/// </summary>
internal sealed partial class PodInformer(
    IKubernetes client,
    PodIndex index,
    IOptions<KubernetesOptions> options,
    PodEvents events,
    BackoffJitter jitter,
    TimeProvider time,
    ProxyMetrics metrics,
    ILogger<PodInformer> logger) : BackgroundService, IReadinessCheck
{
    /// <summary>Server-side watch timeout: a healthy watch ends and is resumed at least this often.</summary>
    private const int WatchTimeoutSeconds = 300;

    private readonly Backoff _backoff = new(TimeSpan.FromMilliseconds(200), options.Value.ReconnectDelayMax, jitter.Next);
    private readonly TaskCompletionSource _firstSynced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _synced;
    private volatile bool _current;
    private long _lastEventTicks;

    // The newest resourceVersion heard (the last list's, or a later event's or bookmark's): where a watch resumes,
    // and what a relist must not be older than. Read and written by the loop only.
    private string? _resourceVersion;
    private bool _resourceVersionUnavailable;

    // A 410 ended a watch and nothing was delivered since: another 410 now backs off before relisting.
    private bool _expiredUnheard;

    public bool Synced => _synced;

    /// <summary>Completes when <see cref="Synced"/> first becomes true.</summary>
    public Task FirstSynced => _firstSynced.Task;

    /// <summary>
    /// True while the index follows a live watch; false from a failure until the next list or watch event, when a
    /// pod may have gone and its address been reused without the index knowing.
    /// </summary>
    public bool Current => _current;

    /// <summary>When the informer last heard from the API server (an event, a bookmark or a list).</summary>
    public DateTimeOffset? LastContact => Interlocked.Read(ref _lastEventTicks) is var t and > 0 ? new DateTimeOffset(t, TimeSpan.Zero) : null;

    public string? NotReadyReason() => _synced ? null : "the pod index has not completed its first list of this node's pods";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        metrics.ObservePodInformer(() => LastContact is { } last ? time.GetUtcNow() - last : null);
        var selector = $"spec.nodeName={options.Value.NodeName}";
        var relist = true;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (relist)
                {
                    await ListAsync(selector, stoppingToken);
                    relist = false;
                }

                relist = !await WatchAsync(selector, stoppingToken);
                if (relist)
                {
                    _current = false;
                    if (_expiredUnheard)
                    {
                        // 410 again with nothing delivered since the last one: relisting at once would spin.
                        var pause = _backoff.Next();
                        Log.ExpiredAgain(logger, pause.TotalSeconds);
                        await Task.Delay(pause, time, stoppingToken);
                    }
                    else
                    {
                        Log.Expired(logger);
                    }

                    _expiredUnheard = true;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (WatchSilentException e)
            {
                // The stream is open but says nothing: do not trust it, resume from the last resourceVersion now.
                _current = false;
                metrics.PodWatchSilent();
                Log.Silent(logger, e.Silence.TotalSeconds);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Any failure (HTTP, a client-side timeout, a bad payload) is retried: a background loop must never stop the host.
                _current = false;
                metrics.PodWatchFailed();
                if (relist && RelistVersion.MakesUnavailable(e))
                    _resourceVersionUnavailable = true; // refused as too old or too new for this API server: ask for the latest
                var delay = _backoff.Next();
                if (RetryAfter.Of(e) is { } asked && asked > delay)
                    delay = asked; // A throttling API server said when to come back: honour it.
                Log.Failed(logger, e.Message, delay.TotalSeconds);
                await Task.Delay(delay, time, stoppingToken);
            }
        }
    }

    private async Task ListAsync(string selector, CancellationToken stoppingToken)
    {
        // The first list asks for resourceVersion=0: served from the API server's watch cache, not a quorum read that
        // makes etcd scan every pod of the cluster (thousands of nodes start at once). Later lists ask for no state
        // older than the last one synced, still served from the cache, which waits to catch up rather than answer
        // an older state (a lagging cache, or another API server behind the load balancer, could otherwise hand an
        // address back to a pod the informer saw leave it); a quorum read only once that version was refused.
        var from = RelistVersion.Of(_resourceVersion, _resourceVersionUnavailable);
        var first = !_synced;
        if (first)
            StartupPhase.Reached(logger, "first pod list sent");
        var list = await client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: selector, resourceVersion: from, cancellationToken: stoppingToken);
        if (first)
            StartupPhase.Reached(logger, "first pod list answered and read");
        index.ReplaceAll(list.Items.Select(PodRecords.From));
        _resourceVersion = list.Metadata.ResourceVersion;
        _resourceVersionUnavailable = false;
        if (!_expiredUnheard)
            _backoff.Reset(); // during a run of 410s only a delivered event resets it, or the pause between relists never grows
        Touch();
        _synced = true;
        _current = true;
        _firstSynced.TrySetResult();
        if (first)
            StartupPhase.Reached(logger, "pod index built (the metadata listeners may bind)");
        metrics.PodIndexRelisted(index.Count);
        events.Listed(index.All);
        if (first)
            StartupPhase.Reached(logger, "the first list's pods handed to the prefetch");
        Log.Listed(logger, index.Count, _resourceVersion, from ?? "");
    }

    /// <summary>Applies watch events until the stream ends; true to resume from <see cref="_resourceVersion"/>, false to relist (410).</summary>
    private async Task<bool> WatchAsync(string selector, CancellationToken stoppingToken)
    {
        var resourceVersion = _resourceVersion!;
        KubernetesException? error = null;
        var attempt = new WatchAttempt(time);
        using var silence = new WatchSilence(2 * options.Value.WatchBookmarkInterval, time);
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, silence.Token);
        var stream = client.CoreV1.WatchListPodForAllNamespacesAsync(
            allowWatchBookmarks: true,
            fieldSelector: selector,
            resourceVersion: resourceVersion,
            timeoutSeconds: WatchTimeoutSeconds,
            onError: e => error ??= e as KubernetesException ?? new KubernetesException(e.Message, e),
            cancellationToken: watching.Token);
        try
        {
            await foreach (var (type, pod) in stream.WithCancellation(watching.Token))
            {
                silence.Heard();
                attempt.Heard();
                Apply(type, pod);
            }
        }
        catch (Exception e) when (silence.IsSilent && !stoppingToken.IsCancellationRequested)
        {
            throw new WatchSilentException(silence.Limit, e);
        }
        catch (Exception e) when (ExpiredWatch.Is(e) && !stoppingToken.IsCancellationRequested)
        {
            return false; // the watch request itself was answered 410: relist, as for the ERROR event
        }
        catch (Exception e) when (WatchAttempt.IsEmptyEnd(e) && !stoppingToken.IsCancellationRequested)
        {
            // Answered 200 and ended before a first line: a quiet watch that ran its time resumes; one closed at once backs off.
            return attempt.EndedEarly ? throw new WatchClosedEarlyException(attempt.Lasted) : true;
        }

        if (silence.IsSilent && !stoppingToken.IsCancellationRequested)
            throw new WatchSilentException(silence.Limit, null);
        if (ExpiredWatch.Is(error))
            return false; // Expired: the history we would resume from is gone.
        if (error is not null)
            throw error; // Any other ERROR event: back off, then resume.
        if (attempt.EndedEarly)
            throw new WatchClosedEarlyException(attempt.Lasted); // not a timeoutSeconds end: back off, or it spins
        return true;
    }

    private void Apply(WatchEventType type, k8s.Models.V1Pod pod)
    {
        Touch();
        _current = true;
        _backoff.Reset();
        _expiredUnheard = false;
        switch (type)
        {
            case WatchEventType.Added or WatchEventType.Modified:
                var record = PodRecords.From(pod);
                index.Upsert(record);
                events.Changed(record);
                break;
            case WatchEventType.Deleted:
                index.Remove(pod.Metadata.Uid);
                break;
        }

        metrics.PodWatchEvent(type.ToString());
        metrics.PodIndexSize(index.Count);
        if (pod.Metadata?.ResourceVersion is { Length: > 0 } version)
            _resourceVersion = version;
    }

    private void Touch() => Interlocked.Exchange(ref _lastEventTicks, time.GetUtcNow().UtcTicks);

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Listed {Count} pods on this node at resourceVersion {ResourceVersion} (asked for \"{Asked}\")")]
        public static partial void Listed(ILogger logger, int count, string resourceVersion, string asked);

        [LoggerMessage(Level = LogLevel.Information, Message = "Pod watch expired (410); relisting")]
        public static partial void Expired(ILogger logger);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Pod watch expired (410) again with nothing delivered since the last relist; relisting in {DelaySeconds:0.0} s")]
        public static partial void ExpiredAgain(ILogger logger, double delaySeconds);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Pod watch silent for {Seconds:0.0} s (no event or bookmark); the index is not current until the watch resumes")]
        public static partial void Silent(ILogger logger, double seconds);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Pod list/watch failed: {Reason}; retrying in {DelaySeconds:0.0} s")]
        public static partial void Failed(ILogger logger, string reason, double delaySeconds);
    }
}
