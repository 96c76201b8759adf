using k8s;
using MetadataProxy.Kubernetes;
using MetadataProxy.Operations;
using Microsoft.Extensions.Options;

namespace MetadataProxy.Pods;

/// <summary>
/// Keeps <see cref="PodIndex"/> equal to the pods on this node: list, then watch from the list's resourceVersion
/// with bookmarks; a 410 (an ERROR event, or the answer to the watch request itself) relists at once; a broken stream,
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
        string? resourceVersion = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (resourceVersion is null)
                {
                    // resourceVersion=0: served from the API server's watch cache, not a quorum read that makes etcd scan
                    // every pod of the cluster (thousands of nodes start or relist at once). The trade-off: the cache may
                    // lag etcd by a moment, so the list can be a little old; the watch that follows resumes from the
                    // list's resourceVersion and delivers every later change, so the index converges within milliseconds.
                    var first = !_synced;
                    if (first)
                        StartupPhase.Reached(logger, "first pod list sent");
                    var list = await client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: selector, resourceVersion: "0", cancellationToken: stoppingToken);
                    if (first)
                        StartupPhase.Reached(logger, "first pod list answered and read");
                    index.ReplaceAll(list.Items.Select(PodRecords.From));
                    resourceVersion = list.Metadata.ResourceVersion;
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
                    Log.Listed(logger, index.Count, resourceVersion);
                }

                resourceVersion = await WatchAsync(selector, resourceVersion, stoppingToken);
                if (resourceVersion is null)
                {
                    _current = false;
                    Log.Expired(logger);
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
                resourceVersion = e.ResourceVersion;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Any failure (HTTP, a client-side timeout, a bad payload) is retried: a background loop must never stop the host.
                _current = false;
                metrics.PodWatchFailed();
                var delay = _backoff.Next();
                if (RetryAfter.Of(e) is { } asked && asked > delay)
                    delay = asked; // A throttling API server said when to come back: honour it.
                Log.Failed(logger, e.Message, delay.TotalSeconds);
                await Task.Delay(delay, time, stoppingToken);
            }
        }
    }

    /// <summary>Applies watch events until the stream ends; returns where to resume, or null to relist (410).</summary>
    private async Task<string?> WatchAsync(string selector, string resourceVersion, CancellationToken stoppingToken)
    {
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
                resourceVersion = Apply(type, pod, resourceVersion);
            }
        }
        catch (Exception e) when (silence.IsSilent && !stoppingToken.IsCancellationRequested)
        {
            throw new WatchSilentException(resourceVersion, silence.Limit, e);
        }
        catch (Exception e) when (ExpiredWatch.Is(e) && !stoppingToken.IsCancellationRequested)
        {
            return null; // the watch request itself was answered 410: relist, as for the ERROR event
        }
        catch (Exception e) when (WatchAttempt.IsEmptyEnd(e) && !stoppingToken.IsCancellationRequested)
        {
            // Answered 200 and ended before a first line: a quiet watch that ran its time resumes; one closed at once backs off.
            return attempt.EndedEarly ? throw new WatchClosedEarlyException(attempt.Lasted) : resourceVersion;
        }

        if (silence.IsSilent && !stoppingToken.IsCancellationRequested)
            throw new WatchSilentException(resourceVersion, silence.Limit, null);
        if (ExpiredWatch.Is(error))
            return null; // Expired: the history we would resume from is gone.
        if (error is not null)
            throw error; // Any other ERROR event: back off, then resume.
        if (attempt.EndedEarly)
            throw new WatchClosedEarlyException(attempt.Lasted); // not a timeoutSeconds end: back off, or it spins
        return resourceVersion;
    }

    private string Apply(WatchEventType type, k8s.Models.V1Pod pod, string resourceVersion)
    {
        Touch();
        _current = true;
        _backoff.Reset();
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
        return pod.Metadata?.ResourceVersion ?? resourceVersion;
    }

    private void Touch() => Interlocked.Exchange(ref _lastEventTicks, time.GetUtcNow().UtcTicks);

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Listed {Count} pods on this node at resourceVersion {ResourceVersion}")]
        public static partial void Listed(ILogger logger, int count, string resourceVersion);

        [LoggerMessage(Level = LogLevel.Information, Message = "Pod watch expired (410); relisting")]
        public static partial void Expired(ILogger logger);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Pod watch silent for {Seconds:0.0} s (no event or bookmark); the index is not current until the watch resumes")]
        public static partial void Silent(ILogger logger, double seconds);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Pod list/watch failed: {Reason}; retrying in {DelaySeconds:0.0} s")]
        public static partial void Failed(ILogger logger, string reason, double delaySeconds);
    }
}
